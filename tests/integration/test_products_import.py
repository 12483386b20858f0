"""`products import` against a real database, SQLite and PostgreSQL (the `database_url`
fixture): upserts, the listing rules, --strict, chunking, and the command line's messages
and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, inspect, select, update
from typer.testing import CliRunner

from tests.acceptance.cli import run_cli
from tests.backends import one_database
from upload_scheduler import defaults
from upload_scheduler.cli.app import app
from upload_scheduler.inventory.importer import ImportReport, import_products
from upload_scheduler.inventory.product import Product
from upload_scheduler.queue.transitions import due_candidates
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue

HEADER = "asin,title,description,price,stock,images,brand,category"
T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
CONFIG = """\
database = "{database_url}"
[accounts]
base = ["base_account_1", "base_account_2"]
"""


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def write_csv(tmp_path: Path, *body: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *body)) + "\n", encoding="utf-8")
    return path


def run(engine: Engine, path: Path, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("now", T0)
    return import_products(engine, path, "base", **kwargs)


def product_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {r.asin: dict(r._mapping) for r in conn.execute(select(products))}


def listing_rows(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    query = select(listings.c.asin, listings.c.platform, listings.c.account_id, listings.c.status)
    with engine.connect() as conn:
        return sorted(
            (tuple(r) for r in conn.execute(query.order_by(listings.c.id))),
            key=lambda r: (r[0], r[2] or ""),
        )


def add_listing(engine: Engine, asin: str, account_id: str | None, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(listings).values(
                asin=asin,
                platform="base",
                account_id=account_id,
                status=status,
                created_at=T0,
                updated_at=T0,
            )
        )


# --- importer ----------------------------------------------------------------------


def test_import_creates_products_and_unassigned_pending_listings(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        'A1,商品,"説明\n二行目","￥1,980",3,https://x.jp/1.jpg|https://x.jp/2.jpg,ブランド,本',
        "A2,t2,,500,,,,",
    )

    report = run(engine, path)

    assert (report.rows_read, report.products_created, report.products_updated) == (2, 2, 0)
    assert report.listings_created == 2
    assert report.errors == []
    stored = product_rows(engine)
    assert stored["A1"] == {
        "asin": "A1",
        "title": "商品",
        "description": "説明\n二行目",
        "price": 1980,
        "stock": 3,
        "images": '["https://x.jp/1.jpg", "https://x.jp/2.jpg"]',
        "brand": "ブランド",
        "category": "本",
        "created_at": T0,
        "updated_at": T0,
        # A file without the English columns (issue 16) leaves them empty.
        "title_en": "",
        "description_en": "",
    }
    assert json.loads(stored["A2"]["images"]) == []
    assert listing_rows(engine) == [
        ("A1", "base", None, "pending"),
        ("A2", "base", None, "pending"),
    ]


def test_reimport_updates_fields_and_keeps_listings_and_created_at(
    engine: Engine, tmp_path: Path
) -> None:
    run(engine, write_csv(tmp_path, "A1,old,,100,1", "A2,t,,100,1"))
    with engine.begin() as conn:
        conn.execute(update(listings).where(listings.c.asin == "A1").values(status="listed"))

    report = run(
        engine,
        write_csv(
            tmp_path, "A1,new title,d,200,5,https://x.jp/n.jpg,B,C", "A3,t,,100", name="2.csv"
        ),
        now=T1,
    )

    assert (report.products_created, report.products_updated, report.listings_created) == (1, 1, 1)
    a1 = product_rows(engine)["A1"]
    assert (a1["title"], a1["description"], a1["price"], a1["stock"]) == ("new title", "d", 200, 5)
    assert (a1["images"], a1["brand"], a1["category"]) == ('["https://x.jp/n.jpg"]', "B", "C")
    assert (a1["created_at"], a1["updated_at"]) == (T0, T1)
    assert listing_rows(engine) == [
        ("A1", "base", None, "listed"),
        ("A2", "base", None, "pending"),
        ("A3", "base", None, "pending"),
    ]


def test_reimporting_the_same_file_changes_nothing_but_updated_at(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,t,,100")
    run(engine, path)
    before = listing_rows(engine)

    report = run(engine, path, now=T1)

    assert (report.products_created, report.products_updated, report.listings_created) == (0, 2, 0)
    assert listing_rows(engine) == before


def test_no_unassigned_listing_when_an_assigned_one_exists(engine: Engine, tmp_path: Path) -> None:
    run(engine, write_csv(tmp_path, "A1,t,,100"), account_id="base_account_1")
    assert listing_rows(engine) == [("A1", "base", "base_account_1", "pending")]

    report = run(engine, write_csv(tmp_path, "A1,t,,100", "A2,t,,100", name="2.csv"))

    assert report.listings_created == 1
    assert listing_rows(engine) == [
        ("A1", "base", "base_account_1", "pending"),
        ("A2", "base", None, "pending"),
    ]


def test_account_id_adds_its_listing_beside_others(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,t,,100")
    run(engine, path)
    add_listing(engine, "A1", "base_account_2", "failed")

    report = run(engine, path, account_id="base_account_1")
    again = run(engine, path, account_id="base_account_1")

    assert (report.listings_created, again.listings_created) == (2, 0)
    assert listing_rows(engine) == [
        ("A1", "base", None, "pending"),
        ("A1", "base", "base_account_1", "pending"),
        ("A1", "base", "base_account_2", "failed"),
        ("A2", "base", None, "pending"),
        ("A2", "base", "base_account_1", "pending"),
    ]


def test_bad_rows_are_skipped_and_the_rest_imported(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,,,100", "A3,t,,abc,-1", "A1,t,,100", "A4,t,,5")

    report = run(engine, path)

    assert set(product_rows(engine)) == {"A1", "A4"}
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (5, 2, 3)
    assert [str(e) for e in report.errors] == [
        "line 3: title: empty",
        "line 4: price: not a positive integer ('abc')",
        "line 4: stock: negative ('-1')",
        "line 5: asin: duplicate of line 2 ('A1')",
    ]


def test_strict_imports_nothing_when_any_row_is_bad(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,t,,0", "A3,,,100")

    report = run(engine, path, strict=True)

    assert not report.written
    assert [e.line for e in report.errors] == [3, 4]
    assert (report.rows_read, report.rows_imported, report.listings_created) == (3, 0, 0)
    assert product_rows(engine) == {}
    assert listing_rows(engine) == []


def test_strict_imports_a_clean_file(engine: Engine, tmp_path: Path) -> None:
    report = run(engine, write_csv(tmp_path, "A1,t,,100"), strict=True)
    assert report.written
    assert set(product_rows(engine)) == {"A1"}


def test_chunks_use_a_few_bulk_statements_each(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(defaults, "IMPORT_CHUNK_ROWS", 500)
    run(engine, write_csv(tmp_path, "P0100,pre,,1", name="pre.csv"))
    body = [f"P{i:04d},title {i},,{i + 1},{i % 7}" for i in range(2_000)]
    body[1200] = "P1200,t,,-5"  # rejected, inside the third chunk
    path = write_csv(tmp_path, *body)
    statements: list[str] = []
    commits: list[object] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    event.listen(engine, "commit", commits.append)
    progress: list[tuple[int, int]] = []

    report = run(engine, path, on_progress=lambda done, total: progress.append((done, total)))

    assert (report.products_created, report.products_updated) == (1_998, 1)
    assert report.listings_created == 1_998
    assert [str(e) for e in report.errors] == ["line 1202: price: not a positive integer ('-5')"]
    assert len(commits) == 4  # one write transaction per chunk
    if engine.dialect.name == "sqlite":  # which holds SQLite's write lock from the start
        assert statements.count("BEGIN IMMEDIATE") == 4
    bulk = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "SELECT"))]
    assert len(bulk) == 4 * 4  # per chunk: products lookup, upsert, listings lookup, insert
    assert len(product_rows(engine)) == 1_999
    assert [total for _, total in progress] == [2_001] * len(progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert progress[-1][0] == 2_001


def test_a_naive_now_is_refused_before_any_write(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        run(engine, write_csv(tmp_path, "A1,t,,100"), now=datetime(2026, 1, 5))
    assert product_rows(engine) == {}


# --- command line ------------------------------------------------------------------


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(CONFIG.format(database_url=database_url), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    return write_config(tmp_path, database_url)


def cli(config: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--config", str(config), "products", "import", *args])


def cli_db(database_url: str) -> Engine:
    return open_database(database_url)


def test_cli_clean_import_exits_0_with_a_summary(
    config: Path, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(f"{HEADER}\nA1,商品,,1980\nA2,t,,100\n".encode("cp932"))

    result = cli(config, str(path))

    assert result.exit_code == 0, result.output
    assert "Rows read: 2" in result.stdout
    assert "Imported: 2 (2 new, 0 updated)" in result.stdout
    assert "Listings created: 2" in result.stdout
    assert "Rejected: 0" in result.stdout
    assert result.stderr == ""
    engine = cli_db(database_url)
    assert product_rows(engine)["A1"]["title"] == "商品"
    engine.dispose()


def test_cli_bad_rows_exit_1_and_name_line_and_field(
    config: Path, tmp_path: Path, database_url: str
) -> None:
    path = write_csv(tmp_path, 'A1,t,"two\nlines",100', "A2,t,,100", "A3,t,,abc", "A4,t,,[x]")

    result = cli(config, str(path), "--account-id", "base_account_2")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 5: price: not a positive integer ('abc')",
        "line 6: price: not a positive integer ('[x]')",
    ]
    assert "Imported: 2 (2 new, 0 updated)" in result.stdout
    assert "Rejected: 2" in result.stdout
    engine = cli_db(database_url)
    assert listing_rows(engine) == [
        ("A1", "base", "base_account_2", "pending"),
        ("A2", "base", "base_account_2", "pending"),
    ]
    engine.dispose()


def test_cli_strict_reports_and_imports_nothing(
    config: Path, tmp_path: Path, database_url: str
) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,t,,-3")

    result = cli(config, str(path), "--strict")

    assert result.exit_code == 1
    assert "line 3: price: not a positive integer ('-3')" in result.stderr
    assert "nothing was imported" in result.stdout
    engine = cli_db(database_url)
    assert product_rows(engine) == {}
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account-id", "nobody"], "account 'nobody' is not configured for platform 'base'"),
        (["--platform", "ebay"], "platform 'ebay' has no accounts"),
    ],
)
def test_cli_unknown_target_exits_2_before_reading(
    tmp_path: Path, unmigrated_database_url: str, args: list[str], message: str
) -> None:
    config = write_config(tmp_path, unmigrated_database_url)

    result = cli(config, str(tmp_path / "does-not-exist.csv"), *args)

    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "does-not-exist" not in result.stderr
    # Not even opened: opening a database applies the migrations.
    untouched = create_engine(unmigrated_database_url)
    try:
        assert inspect(untouched).get_table_names() == []
    finally:
        untouched.dispose()


@one_database
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.csv", "asin,title,stock\nA1,t,1\n", "missing required column 'price'"),
        ("p.txt", "asin,title,price\n", "unknown file type '.txt'"),
        ("missing.csv", None, "cannot read"),
    ],
)
def test_cli_unreadable_file_exits_2(
    config: Path, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = cli(config, str(path))

    assert result.exit_code == 2
    assert "error:" in result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


@one_database
def test_cli_messages_with_brackets_are_not_eaten_as_markup(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "p[bold].csv"
    path.write_text("asin,title\n", encoding="utf-8")

    result = cli(config, str(path))

    assert result.exit_code == 2
    assert "p[bold].csv" in result.stderr


@pytest.mark.acceptance
def test_real_command_in_a_subprocess(config: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "A1,t,,100", "A2,,,100", name="p.jsonl")
    path.write_text(
        '{"asin": "A1", "title": "t", "price": 100}\n{"asin": "A2", "price": 100}\n',
        encoding="utf-8",
    )

    first = run_cli("--config", str(config), "products", "import", str(path), cwd=tmp_path)
    second = run_cli("--config", str(config), "products", "import", str(path), cwd=tmp_path)

    assert first.returncode == 1, first.stderr
    assert first.stderr.strip() == "line 2: title: empty"
    assert "Listings created: 1" in first.stdout
    assert "Imported: 1 (0 new, 1 updated)" in second.stdout
    assert "Listings created: 0" in second.stdout


# --- English text (issue 16) -------------------------------------------------------

HEADER_EN = f"{HEADER},title_en,description_en"


def queue_every_listing(engine: Engine, account_id: str = "base_account_1") -> None:
    """A due upload row per listing, written directly: the test is about the product the
    due read returns, not about add-to-queue."""
    with engine.begin() as conn:
        ids = conn.execute(select(listings.c.id, listings.c.asin).order_by(listings.c.id)).all()
        conn.execute(
            insert(upload_queue),
            [
                {
                    "listing_id": listing_id,
                    "asin": asin,
                    "platform": "base",
                    "account_id": account_id,
                    "scheduled_time": T0,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for listing_id, asin in ids
            ],
        )


def due_products(engine: Engine) -> dict[str, Product]:
    """The products as the daemon's due read gives them, checking it stays one statement."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with engine.connect() as conn:
        event.listen(engine, "before_cursor_execute", count)
        try:
            due = due_candidates(conn, "base", "base_account_1", T1, 100)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    # SQLite's engine sends its own BEGIN; the reads are what the per-item path pays.
    assert len([sql for sql in statements if sql.lstrip().startswith("SELECT")]) == 1, statements
    return {c.item.asin: c.product for c in due if c.product is not None}


def test_english_columns_import_and_reach_the_due_read(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "en.csv"
    path.write_text(
        f'{HEADER_EN}\nA1,商品,説明,100,1,,,,Card,"Mint, boxed"\nA2,t,,100,1,,,,,\n',
        encoding="utf-8",
    )
    report = run(engine, path)
    assert report.errors == []
    queue_every_listing(engine)

    due = due_products(engine)

    assert (due["A1"].title, due["A1"].title_en, due["A1"].description_en) == (
        "商品",
        "Card",
        "Mint, boxed",
    )
    assert (due["A2"].title_en, due["A2"].description_en) == ("", "")


def test_a_file_without_english_columns_imports_as_before(engine: Engine, tmp_path: Path) -> None:
    run(engine, write_csv(tmp_path, "A1,t,d,100,1,,b,c"))
    queue_every_listing(engine)

    product = due_products(engine)["A1"]

    assert product == Product("A1", "t", "d", 100, 1, (), "b", "c", "", "")


def test_reimport_updates_english_text_and_a_file_without_it_empties_it(
    engine: Engine, tmp_path: Path
) -> None:
    """The same rule as brand: the latest file is the whole product, so a column it lacks
    is written empty, not kept from an earlier file."""
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        json.dumps({"asin": "A1", "title": "t", "price": 100, "brand": "B", "title_en": "Old"})
        + "\n",
        encoding="utf-8",
    )
    run(engine, jsonl)
    jsonl.write_text(
        json.dumps(
            {"asin": "A1", "title": "t", "price": 100, "brand": "B", "title_en": "New"}
            | {"description_en": "Text"}
        )
        + "\n",
        encoding="utf-8",
    )
    run(engine, jsonl, now=T1)
    updated = product_rows(engine)["A1"]
    assert (updated["title_en"], updated["description_en"]) == ("New", "Text")

    second = run(engine, jsonl, now=T1)
    assert (second.products_updated, second.listings_created) == (1, 0)
    assert product_rows(engine)["A1"] == updated

    run(engine, write_csv(tmp_path, "A1,t,,100"), now=T1)
    without = product_rows(engine)["A1"]
    assert (without["brand"], without["title_en"], without["description_en"]) == ("", "", "")


@pytest.mark.acceptance
def test_real_command_imports_a_cp932_csv_with_english_title(
    config: Path, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        f'{HEADER_EN}\r\nA1,ポケモンカード,説明,"￥1,980",3,,任天堂,ホビー,Pokemon card,'
        "Japanese edition\r\nA2,本,,500,,,,,,\r\n".encode("cp932")
    )

    result = run_cli("--config", str(config), "products", "import", str(path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Imported: 2 (2 new, 0 updated)" in result.stdout
    engine = cli_db(database_url)
    stored = product_rows(engine)
    engine.dispose()
    assert (stored["A1"]["title"], stored["A1"]["price"]) == ("ポケモンカード", 1980)
    assert (stored["A1"]["title_en"], stored["A1"]["description_en"]) == (
        "Pokemon card",
        "Japanese edition",
    )
    assert (stored["A2"]["title_en"], stored["A2"]["description_en"]) == ("", "")
