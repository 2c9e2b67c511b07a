"""`forage models`: the Gemini models your key can use, with window, caching and the price forage assumes."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import EXIT_OK, err, map_errors


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the Gemini models your key can use: window, explicit caching, and the price forage uses.

    Asks the API (models.list) and refreshes the one-day memo forage keeps of the list. The
    model marked "default" is the one forage uses when no --model is given. Prices are USD per
    1M tokens (input / cached input / output); set your own with [prices."NAME"] in forage.toml.
    """
    from agent.models.catalog import load_catalog, model_rows
    from agent.models.gemini import make_client
    from agent.models.gemini_errors import listed
    from agent.models.prices import PRICES_CHECKED, PRICES_SOURCE
    from agent.paths import places
    from agent.settings import load_settings

    with map_errors():
        settings = load_settings({})
        client = make_client(settings)
        catalog = listed(
            lambda: load_catalog(
                client, data_dir=places(settings).cache, base_url=settings.gemini_base_url,
                api_key=settings.api_key() or "", refresh=True,
            )
        )  # fmt: skip
    table = model_rows(catalog, settings.prices)
    if as_json:
        sys.stdout.write(json.dumps({"models": table, "prices_checked": PRICES_CHECKED}, indent=2) + "\n")
        raise typer.Exit(EXIT_OK)
    out = Console(highlight=False, soft_wrap=True)
    grid = Table(box=None, pad_edge=False)
    for col in ("model", "window", "output", "caching", "USD per 1M: in / cached / out", ""):
        grid.add_column(col)
    for r in table:
        grid.add_row(
            r["name"], f"{r['window']:,}", f"{r['output']:,}", "yes" if r["caching"] else "no",
            r["price_text"], "default" if r["default"] else "",
        )  # fmt: skip
    out.print(grid)
    err.print(
        f"[dim]prices checked {PRICES_CHECKED} ({PRICES_SOURCE}); "
        'set your own with [prices."NAME"] input/cached/output in forage.toml[/]'
    )
    raise typer.Exit(EXIT_OK)
