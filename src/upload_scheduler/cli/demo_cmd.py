"""`upload-scheduler demo`: the main job out of the box, on SQLite and the built-in BASE,
eBay and Yahoo! sandboxes, with no account, token or network needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upload_scheduler.cli.context import console, fail
from upload_scheduler.demo import options as demo_options

USAGE_ERROR = 2


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    items: Annotated[
        int,
        typer.Option(
            "--items",
            help="Valid products to queue; the CSV adds 3 invalid rows and 2 items the NG "
            "rules block.",
        ),
    ] = demo_options.DEFAULT_ITEMS,
    accounts: Annotated[
        int, typer.Option("--accounts", help="BASE shops (demo_shop_1..N), one daemon each.")
    ] = demo_options.DEFAULT_ACCOUNTS,
    platforms: Annotated[
        str,
        typer.Option(
            "--platforms",
            help="Marketplaces to list on, a comma list: base (two shops by default), "
            "ebay (one seller, English titles, dollar prices) and yahoo (one store, images "
            "downloaded and uploaded). 'base' is the BASE-only demo.",
        ),
    ] = demo_options.DEFAULT_PLATFORMS,
    minutes: Annotated[
        float, typer.Option("--minutes", help="Spread the items over this many minutes.")
    ] = demo_options.DEFAULT_MINUTES,
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the config, database, CSV and logs go.")
    ] = Path(demo_options.DEFAULT_WORKDIR),
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Delete an earlier demo run in --workdir first.")
    ] = False,
) -> None:
    """Run the real main job against local BASE, eBay and Yahoo! sandboxes: import a CP932
    CSV, log the eBay seller and the Yahoo! store in (`token login`) and set the seller up
    (`account setup`), queue the items on every marketplace over the next minutes, run one
    daemon per account under one manager, watch them live, and check each sandbox's
    record. Exits 0 when every item reached a final state and every verdict is clean;
    Ctrl+C stops gracefully and keeps the work folder."""
    from upload_scheduler.demo.run import run_demo
    from upload_scheduler.demo.workdir import WorkdirRefused

    try:
        chosen = demo_options.DemoOptions(
            items, accounts, minutes, workdir, fresh, demo_options.parse_platforms(platforms)
        )
        code = run_demo(chosen, console)
    except ValueError as exc:
        fail(str(exc), code=USAGE_ERROR)
    except WorkdirRefused as exc:
        fail(str(exc), code=USAGE_ERROR)
    raise typer.Exit(code)
