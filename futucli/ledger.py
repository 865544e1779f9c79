"""`futucli ledger`: each key's usage against its limits now, from the SQLite or the Redis ledger,
so an operator sees who is near a cap.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from futucli.keys import KeysFileOption, LedgerOption, open_cli_ledger
from futucli.keys import _fail as fail

if TYPE_CHECKING:
    from rich.table import Table

    from keystore.ledger import KeyUsage
    from keystore.records import KeyRecord

BAR_WIDTH = 20


def register(app: typer.Typer) -> None:
    """Add `futucli ledger` to the app."""
    app.command("ledger")(show_ledger)


def show_ledger(
    ledger_url: str | None = LedgerOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
    keys_file: Path | None = KeysFileOption,
) -> None:
    """Each key's orders in the last minute and value per market today, against its limits.

    Server-wide caps (futu-mcp --max-*) are not known here: a bar shows the key's own limit.
    """
    from keystore.errors import KeystoreError
    from keystore.paths import resolve_keys_file
    from keystore.store import KeyStore

    path = resolve_keys_file(keys_file)
    try:
        records = [r for r in KeyStore(path).read().records if r.revoked_at is None]
    except KeystoreError as exc:
        fail(str(exc))
    ledger = open_cli_ledger(ledger_url, path)
    now = datetime.now(UTC)
    try:
        usage = ledger.usage([r.id for r in records], now)
    except KeystoreError as exc:
        fail(str(exc))
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps([_json_row(r, usage[r.id]) for r in records], indent=2))
        return
    _print_table(records, usage, ledger_url or str(path), now)


def _json_row(record: "KeyRecord", used: "KeyUsage") -> dict[str, object]:
    daily_cap = record.limits.max_daily_value
    return {
        "id": record.id,
        "orders_last_minute": used.orders_last_minute,
        "max_orders_per_minute": record.limits.max_orders_per_minute,
        "daily": [
            {
                "market": market,
                "currency": currency,
                "value": str(value),
                "max_daily_value": _cap_text(daily_cap.for_market(market) if daily_cap else None),
            }
            for (market, currency), value in sorted(used.daily.items())
        ],
    }


def _cap_text(cap: Decimal | None) -> str | None:
    from keystore.records import format_amount

    return None if cap is None else format_amount(cap)


def _print_table(
    records: list["KeyRecord"], usage: dict[str, "KeyUsage"], where: str, now: datetime
) -> None:
    from rich import box
    from rich.console import Console, Group
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not records:
        console.print("No active keys. Create one with [bold]futucli gen-key[/bold].")
        return
    table = Table(
        title=f"{escape(where)}, {now:%Y-%m-%d %H:%M} UTC",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("key", overflow="fold")
    table.add_column("orders, last 60 s")
    table.add_column("value today (UTC day)")
    for record in records:
        used = usage[record.id]
        daily_cap = record.limits.max_daily_value
        days = [
            _meter(
                f"{market} {currency}",
                value,
                daily_cap.for_market(market) if daily_cap else None,
            )
            for (market, currency), value in sorted(used.daily.items())
        ]
        table.add_row(
            escape(record.id),
            _meter(
                "",
                Decimal(used.orders_last_minute),
                _as_decimal(record.limits.max_orders_per_minute),
            ),
            Group(*days) if days else "none",
        )
    console.print(table)


def _as_decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _meter(label: str, used: Decimal, cap: Decimal | None) -> "Table":
    """`label [bar] used/cap`: the bar turns yellow past 80% and red at the cap."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    from keystore.records import format_amount

    row = Table.grid(padding=(0, 1))
    cells: list[object] = []
    if label:
        cells.append(label)
    if cap is None:
        cells.append(f"{format_amount(used)} (no limit)")
    else:
        share = used / cap if cap > 0 else Decimal(1)
        style = "red" if share >= 1 else "yellow" if share >= Decimal("0.8") else "green"
        cells.append(
            ProgressBar(
                total=float(cap),
                completed=float(min(used, cap)),
                width=BAR_WIDTH,
                complete_style=style,
                finished_style=style,
            )
        )
        cells.append(f"{format_amount(used)}/{format_amount(cap)}")
    for _ in cells:
        row.add_column(no_wrap=True)
    row.add_row(*cells)
    return row
