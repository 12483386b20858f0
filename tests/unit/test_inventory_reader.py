"""The product file reader: encodings Excel produces in Japan, line numbers of bad rows,
and every validation rule of `products import`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from upload_scheduler import defaults
from upload_scheduler.inventory.reader import (
    MAX_FIELD_BYTES,
    ImportFileError,
    ProductRow,
    RowError,
    detect_encoding,
    open_source,
    read_products,
)

HEADER = "asin,title,description,price,stock,images,brand,category"


def write(tmp_path: Path, text: str, *, name: str = "p.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows_and_errors(path: Path, **kwargs: str) -> tuple[list[ProductRow], list[RowError]]:
    items = list(read_products(path, **kwargs))
    return (
        [i for i in items if isinstance(i, ProductRow)],
        [i for i in items if isinstance(i, RowError)],
    )


def only_error(tmp_path: Path, body: str) -> RowError:
    _, errors = rows_and_errors(write(tmp_path, f"{HEADER}\n{body}\n"))
    assert len(errors) == 1, errors
    return errors[0]


# --- encodings ---------------------------------------------------------------------


def test_detect_encoding_prefers_bom_then_utf8_then_cp932() -> None:
    text = "asin,title\nA1,日本語の商品\n"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode()) == "utf-8-sig"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("cp932")) == "cp932"


def test_detect_encoding_accepts_a_character_cut_at_the_end_of_the_head() -> None:
    head = "商品".encode()[:-1]
    assert detect_encoding(head) == "utf-8"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp932", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")],
    ids=["cp932", "utf-8-bom", "utf-8"],
)
def test_reads_japanese_text_in_each_excel_encoding(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    text = f"{HEADER}\nA1,ポケモンカード ①,説明～,￥1,980,3,,任天堂,ホビー\n"
    text = text.replace("￥1,980", '"￥1,980"')
    path = tmp_path / "p.csv"
    path.write_bytes(bom + text.encode(encoding))

    rows, errors = rows_and_errors(path)

    assert errors == []
    assert rows == [
        ProductRow(2, "A1", "ポケモンカード ①", "説明～", 1980, 3, (), "任天堂", "ホビー")
    ]


def test_a_bom_does_not_hide_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbfasin,title,price\nA1,t,100\n")
    rows, errors = rows_and_errors(path, encoding="utf-8")
    assert errors == []
    assert [r.asin for r in rows] == ["A1"]


def test_cp932_found_after_a_long_ascii_start(tmp_path: Path) -> None:
    """The first megabyte is plain ASCII (valid UTF-8); the Japanese comes later."""
    ascii_rows = "".join(f"A{i},title {i:06d} padding padding padding,100\n" for i in range(25_000))
    path = tmp_path / "p.csv"
    path.write_bytes(("asin,title,price\n" + ascii_rows + "J1,日本語,200\n").encode("cp932"))
    assert path.stat().st_size > 1 << 20

    assert open_source(path).encoding == "cp932"
    last = list(read_products(path))[-1]
    assert isinstance(last, ProductRow)
    assert (last.line, last.title) == (25_002, "日本語")


def test_undecodable_file_is_one_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    # 0x81 starts a CP932 pair but a space cannot end one; neither is it UTF-8.
    path.write_bytes(b"asin,title,price\nA1,ok,100\nA2,bad \x81 ,100\n")
    with pytest.raises(ImportFileError, match=r"line 3: not UTF-8 or CP932"):
        list(read_products(path))


def test_explicit_utf8_refuses_a_cp932_file(tmp_path: Path) -> None:
    path = write(tmp_path, "asin,title,price\nA1,商品,100\n", encoding="cp932")
    with pytest.raises(ImportFileError, match=r"line 2: not utf-8"):
        list(read_products(path, encoding="utf-8"))
    rows, _ = rows_and_errors(path, encoding="cp932")
    assert rows[0].title == "商品"


def test_utf16_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffasin,title,price\n", encoding="utf-16-le")
    with pytest.raises(ImportFileError, match="UTF-16"):
        list(read_products(path))


# --- file shape --------------------------------------------------------------------


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "asin,title,price\n", name="p.xlsx")
    with pytest.raises(ImportFileError, match=r"unknown file type '\.xlsx'"):
        list(read_products(path))


def test_missing_required_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "asin,title,stock\nA1,t,3\n")
    with pytest.raises(ImportFileError, match=r"missing required column 'price'"):
        list(read_products(path))


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "asin,title,price,Price\nA1,t,100,200\n")
    with pytest.raises(ImportFileError, match="names 'price' more than once"):
        list(read_products(path))


def test_column_names_ignore_case_and_whitespace(tmp_path: Path) -> None:
    path = write(tmp_path, " ASIN , Title ,PRICE,Unknown\nA1,t,100,x\n")
    rows, errors = rows_and_errors(path)
    assert errors == []
    assert rows[0].asin == "A1"


@pytest.mark.parametrize(
    ("name", "text"),
    [("p.csv", ""), ("p.csv", "\n\n"), ("p.jsonl", ""), ("p.jsonl", "\n \n")],
)
def test_an_empty_file_has_no_rows_in_either_format(tmp_path: Path, name: str, text: str) -> None:
    """The command says "the file has no rows" for both; the reader simply yields none."""
    assert list(read_products(write(tmp_path, text, name=name))) == []


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert list(read_products(write(tmp_path, HEADER + "\n"))) == []


# --- line numbers ------------------------------------------------------------------


def test_blank_lines_are_skipped_and_still_counted(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n\nA1,t,,100\n   \n,,,,,,,\nA2,t,,abc\n")
    rows, errors = rows_and_errors(path)
    assert [r.line for r in rows] == [3]
    assert [str(e) for e in errors] == ["line 6: price: not a positive integer ('abc')"]


def test_a_quoted_multiline_field_counts_its_physical_lines(tmp_path: Path) -> None:
    body = 'A1,t,"first\nsecond\r\nthird",100\nA2,t,"one\ntwo",0\nA3,t,,abc\n'
    path = write(tmp_path, f"{HEADER}\n{body}")
    rows, errors = rows_and_errors(path)
    assert rows[0].description == "first\nsecond\r\nthird"
    assert [(e.line, e.field) for e in errors] == [(5, "price"), (7, "price")]


def test_crlf_line_ends_count_once(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\r\nA1,t,,100\r\n\r\nA2,,,100\r\n")
    _, errors = rows_and_errors(path)
    assert [str(e) for e in errors] == ["line 4: title: empty"]


def test_an_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\nA1,t,,100\nA2,"broken,,100\nA3,t,,100\n')
    rows, errors = rows_and_errors(path)
    assert [r.asin for r in rows] == ["A1"]
    assert [(e.line, e.field) for e in errors] == [(3, "row")]
    assert "never closed" in errors[0].reason


def test_an_unquoted_comma_shifting_columns_is_reported(tmp_path: Path) -> None:
    err = only_error(tmp_path, "A1,t,,1,980,3,,b,c")
    assert (err.line, err.field) == (2, "row")
    assert "9 fields but the header has 8" in err.reason


# --- fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("1980", 1980),
        ('"1,980"', 1980),
        ("¥1980", 1980),
        ('"￥1,980"', 1980),
        ('"￥1,234,567"', 1_234_567),
        ("１９８０", 1980),
        ("  42  ", 42),
    ],
)
def test_prices_as_excel_writes_them(tmp_path: Path, price: str, expected: int) -> None:
    rows, errors = rows_and_errors(write(tmp_path, f"{HEADER}\nA1,t,,{price}\n"))
    assert errors == []
    assert rows[0].price == expected


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("12.5", "not a positive integer ('12.5')"),
        ("-3", "not a positive integer ('-3')"),
        ("abc", "not a positive integer ('abc')"),
        ("0", "not a positive integer ('0')"),
        ('"1,98"', "not a positive integer ('1,98')"),
        ("", "empty"),
        ("99999999999", "too large ('99999999999')"),
    ],
)
def test_bad_prices(tmp_path: Path, price: str, reason: str) -> None:
    err = only_error(tmp_path, f"A1,t,,{price}")
    assert str(err) == f"line 2: price: {reason}"


def test_stock_empty_is_zero_and_negative_is_bad(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nA1,t,,100,\nA2,t,,100,-3\nA3,t,,100,2.5\nA4,t,,100,7\n")
    rows, errors = rows_and_errors(path)
    assert [(r.asin, r.stock) for r in rows] == [("A1", 0), ("A4", 7)]
    assert [str(e) for e in errors] == [
        "line 3: stock: negative ('-3')",
        "line 4: stock: not an integer ('2.5')",
    ]


def test_whitespace_around_every_field_is_stripped(tmp_path: Path) -> None:
    body = (
        " A1 ,\u3000title\u3000, desc , 100 , 3 , https://x.jp/a.jpg | https://x.jp/b.jpg , b , c "
    )
    rows, _ = rows_and_errors(write(tmp_path, f"{HEADER}\n{body}\n"))
    assert rows == [
        ProductRow(
            2, "A1", "title", "desc", 100, 3, ("https://x.jp/a.jpg", "https://x.jp/b.jpg"), "b", "c"
        )
    ]


def test_missing_title_and_empty_asin(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nA1,,,100\n ,t,,100\n")
    _, errors = rows_and_errors(path)
    assert [str(e) for e in errors] == ["line 2: title: empty", "line 3: asin: empty"]


def test_every_bad_field_of_a_row_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nA1,,,abc,-1\n")
    _, errors = rows_and_errors(path)
    assert [(e.line, e.field) for e in errors] == [(2, "title"), (2, "price"), (2, "stock")]


def test_images_as_pipes_or_json_list(tmp_path: Path) -> None:
    json_cell = '"[""https://x.jp/1.jpg"", ""http://x.jp/2.jpg""]"'
    path = write(
        tmp_path,
        f"{HEADER}\nA1,t,,100,,https://x.jp/a.jpg||https://x.jp/b.jpg\nA2,t,,100,,{json_cell}\n",
    )
    rows, errors = rows_and_errors(path)
    assert errors == []
    assert rows[0].images == ("https://x.jp/a.jpg", "https://x.jp/b.jpg")
    assert rows[1].images == ("https://x.jp/1.jpg", "http://x.jp/2.jpg")


@pytest.mark.parametrize(
    "url", ["ftp://x.jp/a.jpg", "x.jp/a.jpg", "http://", "https:///a.jpg", "http://x.jp/a b.jpg"]
)
def test_malformed_image_url(tmp_path: Path, url: str) -> None:
    err = only_error(tmp_path, f'A1,t,,100,,"https://ok.jp/1.jpg|{url}"')
    assert (err.line, err.field) == (2, "images")
    assert err.reason.startswith(f"malformed URL ({url!r})")


def test_a_newline_inside_one_json_image_is_malformed(tmp_path: Path) -> None:
    text = '{"asin": "A1", "title": "t", "price": 1, "images": ["https://a.jp/x\\nhttps://b.jp/y"]}'
    _, errors = rows_and_errors(write(tmp_path, text + "\n", name="p.jsonl"))
    assert [(e.line, e.field) for e in errors] == [(1, "images")]


def test_at_most_twenty_images(tmp_path: Path) -> None:
    urls = [f"https://x.jp/{i}.jpg" for i in range(defaults.MAX_IMAGES + 1)]
    path = write(
        tmp_path,
        f"{HEADER}\nA1,t,,100,,{'|'.join(urls[:-1])}\nA2,t,,100,,{'|'.join(urls)}\n",
    )
    rows, errors = rows_and_errors(path)
    assert len(rows[0].images) == 20
    assert [str(e) for e in errors] == ["line 3: images: 21 images, at most 20 are allowed"]


def test_a_repeated_asin_is_a_duplicate_of_its_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nA1,t,,100\nA2,t,,100\n A1 ,other,,200\nA2,,,1\n")
    rows, errors = rows_and_errors(path)
    assert [r.asin for r in rows] == ["A1", "A2"]
    assert [str(e) for e in errors] == [
        "line 4: asin: duplicate of line 2 ('A1')",
        "line 5: asin: duplicate of line 3 ('A2')",
    ]


def test_a_duplicate_of_a_rejected_row_is_still_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nA1,t,,abc\nA1,t,,100\n")
    _, errors = rows_and_errors(path)
    assert [str(e) for e in errors] == [
        "line 2: price: not a positive integer ('abc')",
        "line 3: asin: duplicate of line 2 ('A1')",
    ]


def test_long_values_are_shortened_in_messages(tmp_path: Path) -> None:
    err = only_error(tmp_path, f"A1,t,,{'x' * 200}")
    assert len(str(err)) < 100


# --- JSONL -------------------------------------------------------------------------


def test_jsonl_rows_with_native_types(tmp_path: Path) -> None:
    lines = [
        {
            "asin": "A1",
            "title": "商品",
            "price": 1980,
            "stock": 2,
            "images": ["https://x.jp/a.jpg"],
        },
        {
            "asin": "A2",
            "title": "t",
            "price": "￥1,000",
            "images": "https://x.jp/b.jpg|https://x.jp/c.jpg",
        },
    ]
    text = "\n".join(json.dumps(obj, ensure_ascii=False) for obj in lines) + "\n"
    rows, errors = rows_and_errors(write(tmp_path, text, name="p.jsonl"))
    assert errors == []
    assert [(r.line, r.asin, r.price, r.stock, r.images) for r in rows] == [
        (1, "A1", 1980, 2, ("https://x.jp/a.jpg",)),
        (2, "A2", 1000, 0, ("https://x.jp/b.jpg", "https://x.jp/c.jpg")),
    ]


def test_jsonl_bad_lines_keep_their_numbers(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '{"asin": "A1", "title": "t", "price": 100}',
            "",
            '{"asin": "A2", "title": "t", "price": 12.5}',
            "{not json",
            '["a", "list"]',
            '{"asin": "A3", "price": 100}',
            '{"asin": "A4", "title": "t", "price": 100, "images": ["ftp://x"]}',
            '{"asin": "A1", "title": "t", "price": 100}',
        ]
    )
    rows, errors = rows_and_errors(write(tmp_path, text, name="p.ndjson"))
    assert [r.asin for r in rows] == ["A1"]
    assert [(e.line, e.field) for e in errors] == [
        (3, "price"),
        (4, "row"),
        (5, "row"),
        (6, "title"),
        (7, "images"),
        (8, "asin"),
    ]
    assert str(errors[0]) == "line 3: price: not a positive integer ('12.5')"
    assert errors[-1].reason == "duplicate of line 1 ('A1')"


def test_jsonl_wrong_value_types_are_row_errors(tmp_path: Path) -> None:
    text = '{"asin": "A1", "title": {"ja": "t"}, "price": true}\n'
    _, errors = rows_and_errors(write(tmp_path, text, name="p.jsonl"))
    assert [(e.field, e.reason) for e in errors] == [
        ("title", "expected text, got an object"),
        ("price", "expected text, got true/false"),
    ]


# --- hostile input (issue 15) --------------------------------------------------------


def test_a_lone_surrogate_is_a_bad_row_and_the_others_still_read(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '{"asin": "A1", "title": "ok", "price": 100}',
            '{"asin": "A2", "title": "bad \\ud83d", "price": 100}',
            '{"asin": "A3", "title": "pair \\ud83d\\ude00", "price": 100}',
            '{"asin": "A4", "title": "t", "price": 100, "images": ["https://x.jp/\\udc00"]}',
            '{"\\ud800": 1, "asin": "A5", "title": "t", "price": 100}',
        ]
    )
    rows, errors = rows_and_errors(write(tmp_path, text, name="p.jsonl"))
    assert [(r.asin, r.title) for r in rows] == [("A1", "ok"), ("A3", "pair 😀")]
    assert [(e.line, e.field) for e in errors] == [(2, "title"), (4, "images"), (5, "row")]
    assert "lone surrogate" in errors[0].reason


def test_a_jsonl_number_python_cannot_convert_is_a_bad_row(tmp_path: Path) -> None:
    digits = "9" * 5000
    text = f'{{"asin": "A1", "title": "t", "price": {digits}}}\n[{"[" * 100_000}\n'
    rows, errors = rows_and_errors(write(tmp_path, text, name="p.jsonl"))
    assert rows == []
    assert [(e.line, e.field) for e in errors] == [(1, "row"), (2, "row")]


@pytest.mark.parametrize(
    "asin",
    ["A\x1b[31mRED", "A\nB", "A B", "A\tB", "ＡＳＩＮ", "A\x7f", "A\u200bB"],
    ids=["escape", "newline", "space", "tab", "full-width", "del", "zero-width"],
)
def test_an_asin_must_be_printable_ascii_in_both_formats(tmp_path: Path, asin: str) -> None:
    csv_path = tmp_path / "p.csv"
    csv_path.write_text(f'asin,title,price\nOK1,t,100\n"{asin}",t,100\n', encoding="utf-8")
    jsonl_path = tmp_path / "p.jsonl"
    jsonl_path.write_text(
        json.dumps({"asin": "OK1", "title": "t", "price": 100})
        + "\n"
        + json.dumps({"asin": asin, "title": "t", "price": 100})
        + "\n",
        encoding="utf-8",
    )
    for path in (csv_path, jsonl_path):
        rows, errors = rows_and_errors(path)
        assert [r.asin for r in rows] == ["OK1"]
        assert [(e.line, e.field) for e in errors] == [(2 if path is jsonl_path else 3, "asin")]
        assert "not printable ASCII" in errors[0].reason
        # The reason shows the value escaped: it cannot drive the terminal that prints it.
        assert "\x1b" not in str(errors[0]) and "\n" not in str(errors[0])


def test_one_field_size_rule_for_csv_and_jsonl(tmp_path: Path) -> None:
    """A field over 1 MB is a bad row at its line in both formats; the rows around it
    import, and a field just under the limit is fine."""
    big, fits = "x" * (MAX_FIELD_BYTES + 1), "y" * MAX_FIELD_BYTES
    ten_mb = "z" * (10 * MAX_FIELD_BYTES)
    records = [
        {"asin": "A1", "title": "t", "price": 100, "description": fits},
        {"asin": "A2", "title": "t", "price": 100, "description": big},
        {"asin": "A3", "title": ten_mb, "price": 100},
        {"asin": "A4", "title": "t", "price": 100},
    ]
    jsonl = write(tmp_path, "".join(json.dumps(r) + "\n" for r in records), name="p.jsonl")
    lines = [f"{r['asin']},{r['title']},{r['price']},{r.get('description', '')}" for r in records]
    csv_file = write(tmp_path, "asin,title,price,description\n" + "\n".join(lines) + "\n")

    for path, first in ((jsonl, 1), (csv_file, 2)):
        rows, errors = rows_and_errors(path)
        assert [r.asin for r in rows] == ["A1", "A4"], path
        assert [(e.line, e.field) for e in errors] == [
            (first + 1, "description"),
            (first + 2, "title"),
        ]
        assert "larger than 1 MB" in errors[0].reason


# --- English text (issue 16) -------------------------------------------------------

HEADER_EN = f"{HEADER},title_en,description_en"


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_english_columns_are_read_from_csv(tmp_path: Path, encoding: str) -> None:
    text = f'{HEADER_EN}\nA1,商品,説明,100,1,,b,c, Pokemon card ,"Mint, boxed"\nA2,t,,100,,,,,,\n'
    rows, errors = rows_and_errors(write(tmp_path, text, encoding=encoding))
    assert errors == []
    assert [(r.asin, r.title, r.title_en, r.description_en) for r in rows] == [
        ("A1", "商品", "Pokemon card", "Mint, boxed"),
        ("A2", "t", "", ""),
    ]


def test_english_keys_are_read_from_jsonl(tmp_path: Path) -> None:
    records = [
        {"asin": "A1", "title": "t", "price": 100, "title_en": "Card", "description_en": "New"},
        {"asin": "A2", "title": "t", "price": 100, "TITLE_EN": " Upper "},
        {"asin": "A3", "title": "t", "price": 100, "title_en": None, "description_en": 7},
    ]
    path = write(tmp_path, "".join(json.dumps(r) + "\n" for r in records), name="p.jsonl")
    rows, errors = rows_and_errors(path)
    assert errors == []
    assert [(r.title_en, r.description_en) for r in rows] == [
        ("Card", "New"),
        ("Upper", ""),
        ("", "7"),
    ]


def test_a_file_without_english_columns_reads_as_before(tmp_path: Path) -> None:
    rows, errors = rows_and_errors(write(tmp_path, f"{HEADER}\nA1,t,d,100,1,,b,c\n"))
    assert errors == []
    assert rows == [ProductRow(2, "A1", "t", "d", 100, 1, (), "b", "c")]
    assert (rows[0].title_en, rows[0].description_en) == ("", "")


def test_english_columns_follow_the_rules_of_title_and_description(tmp_path: Path) -> None:
    """Over 1 MB, a lone surrogate, or not text: a bad row naming the column, in both
    formats; an empty title_en is fine (title itself stays required)."""
    big = "x" * (MAX_FIELD_BYTES + 1)
    records = [
        {"asin": "A1", "title": "t", "price": 100, "title_en": big},
        {"asin": "A2", "title": "t", "price": 100, "description_en": big},
        {"asin": "A3", "title": "t", "price": 100, "title_en": "ok"},
        {"asin": "A4", "title": "", "price": 100, "title_en": "no Japanese title"},
    ]
    jsonl_text = "".join(json.dumps(r) + "\n" for r in records)
    jsonl_text += '{"asin": "A5", "title": "t", "price": 100, "title_en": "bad \\ud83d"}\n'
    jsonl_text += '{"asin": "A6", "title": "t", "price": 100, "description_en": [1]}\n'
    jsonl = write(tmp_path, jsonl_text, name="p.jsonl")
    lines = [
        f"{r['asin']},{r['title']},{r['price']},{r.get('title_en', '')},"
        f"{r.get('description_en', '')}"
        for r in records
    ]
    csv_file = write(tmp_path, "asin,title,price,title_en,description_en\n" + "\n".join(lines))

    rows, errors = rows_and_errors(jsonl)
    assert [r.asin for r in rows] == ["A3"]
    assert [(e.line, e.field) for e in errors] == [
        (1, "title_en"),
        (2, "description_en"),
        (4, "title"),
        (5, "title_en"),
        (6, "description_en"),
    ]
    assert "larger than 1 MB" in errors[0].reason
    assert "lone surrogate" in errors[3].reason
    assert "expected text" in errors[4].reason

    rows, errors = rows_and_errors(csv_file)
    assert [r.asin for r in rows] == ["A3"]
    assert [(e.line, e.field) for e in errors] == [
        (2, "title_en"),
        (3, "description_en"),
        (5, "title"),
    ]
