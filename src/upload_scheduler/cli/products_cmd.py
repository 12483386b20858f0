"""`upload-scheduler products ...` (being written: see inventory/)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    products = typer.Typer(help="The master DB's products.", no_args_is_help=True)
    app.add_typer(products, name="products")
