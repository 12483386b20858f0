"""The database every storage test runs on, SQLite and PostgreSQL, from one fixture.

A test that asks for `database_url` runs twice: once on an SQLite file in its tmp_path,
once on a fresh PostgreSQL database. Both start migrated, copied from a template made
once per session, so no test pays for the migrations.

PostgreSQL comes from $UPLOAD_SCHEDULER_TEST_POSTGRES_URL (`.ci/run` starts a server and
sets it). Without it the PostgreSQL runs are left out, and the summary says so in one
line; with REQUIRE_POSTGRES=1 (CI) a missing server fails them instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from upload_scheduler.store.database import open_database

POSTGRES_URL_VAR = "UPLOAD_SCHEDULER_TEST_POSTGRES_URL"
REQUIRE_VAR = "REQUIRE_POSTGRES"
_LEFT_OUT = pytest.StashKey[int]()
SKIP_REASON = (
    f"PostgreSQL tests skipped: no server (set {POSTGRES_URL_VAR}, e.g. by "
    "`python tests/pg_cluster.py start --dir /tmp/pg`; CI sets REQUIRE_POSTGRES=1)"
)


def pytest_configure(config: pytest.Config) -> None:
    """Tests of Ctrl+C send SIGINT to the processes they start, as a terminal does. A
    suite started as a background job of a script (`.ci/run &`) inherits SIGINT ignored,
    and so would every process it starts (a manager rightly keeps an ignored SIGINT
    ignored). Restore the terminal's disposition for the processes the tests start."""
    if hasattr(signal, "SIGINT") and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_VAR, "") not in ("", "0")


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        return f"postgresql: {make_url(url).render_as_string(hide_password=True)}"
    return "postgresql: " + ("REQUIRED but not configured" if postgres_required() else SKIP_REASON)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a server (and not required), leave the PostgreSQL runs out rather than
    report hundreds of identical skips."""
    if os.environ.get(POSTGRES_URL_VAR) or postgres_required():
        return
    left_out = [item for item in items if item.get_closest_marker("postgres")]
    if left_out:
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_LEFT_OUT] = len(left_out)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    count = terminalreporter.config.stash.get(_LEFT_OUT, 0)
    if count:
        terminalreporter.write_line(f"{count} {SKIP_REASON}", yellow=True)


class PostgresServer:
    """Makes one database per test, copied from a migrated template."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url)
        if self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.template = f"us_template_{uuid.uuid4().hex[:8]}"

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def prepare_template(self) -> None:
        self._execute(f'CREATE DATABASE "{self.template}"')
        engine = open_database(self.url_for(self.template))
        engine.dispose()

    def create_database(self, *, migrated: bool = True) -> str:
        name = f"us_test_{uuid.uuid4().hex[:12]}"
        template = self.template if migrated else "template1"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.drop_database(self.template)
        self.admin.dispose()

    def _execute(self, sql: str) -> None:
        # Database names cannot be bound parameters; ours are generated, never user input.
        with self.admin.connect() as conn:
            conn.execute(text(sql))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        if postgres_required():
            pytest.fail(f"{REQUIRE_VAR}=1 but {POSTGRES_URL_VAR} is not set")
        pytest.skip(SKIP_REASON)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if postgres_required():
            raise
        pytest.skip("PostgreSQL tests skipped: psycopg is not installed (pip install .[postgres])")
    server = PostgresServer(url)
    try:
        server.prepare_template()
    except Exception as exc:
        if postgres_required():
            raise
        pytest.skip(f"PostgreSQL tests skipped: cannot use {POSTGRES_URL_VAR}: {exc}")
    yield server
    server.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrations take ~0.4 s)."""
    path = tmp_path_factory.mktemp("template") / "q.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind; the test's own for its duration."""
    yield from _fresh_database(request, tmp_path, migrated=True)


@pytest.fixture(params=BACKENDS)
def unmigrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with no tables at all, for the migrations' own tests."""
    yield from _fresh_database(request, tmp_path, migrated=False)


def _fresh_database(
    request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "q.db"
        if migrated:
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(migrated=migrated)
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)
