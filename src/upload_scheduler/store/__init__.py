"""Storage: SQLAlchemy Core tables, engines with the right SQLite pragmas, migrations."""
