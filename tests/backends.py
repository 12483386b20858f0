"""Choosing databases for a test that uses the `database_url` fixture (tests/conftest.py).

Most storage tests run on SQLite and PostgreSQL alike. A test about something only one
of them has (SQLite's files, pragmas and plain-sqlite3 scripts) narrows the fixture with
these marks instead of skipping itself.
"""

from __future__ import annotations

import pytest

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# For tests that take `database_url` but never reach storage (a refused option, a
# content rule): one database is enough, and it is not about SQLite.
one_database = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
