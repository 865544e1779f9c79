"""`futucli demo`: a guided tour of futu-mcp on the simulated OpenD, with nothing to set up.

The demo takes the real path end to end, so what a newcomer sees is what their LLM client will
get: a simulated OpenD on a free loopback port, a freshly issued key with limits, `futu-mcp`
spawned over stdio by the MCP SDK's own client (as Claude Desktop spawns it), the audit log it
wrote and the metrics it counted. Everything lives in a temporary folder that is removed
afterwards, the server and the simulator are stopped, and the user's keys.json is never touched.

The paper order is a limit buy at the best ask, so it fills at once against the simulated book
(the demo still waits for the fill rather than assuming it).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

DEMO_KEY_ID = "demo-bot"
DEMO_SCOPES = frozenset({"qot:read", "acc:read", "trade:simulate"})
DEMO_LIMITS = {"max_order_value": "HK=100000,US=10000", "max_orders_per_minute": 5}
FILL_WAIT_S = 10.0
# The tour takes a few seconds; a server that stops answering ends it with a message, not a hang.
TOUR_TIMEOUT_S = 60.0
_METRICS_URL = re.compile(r"metrics on (http://\S+/metrics)")
_FILLED = ("FILLED_ALL", "FILLED_PART")


def rows_table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> Table:
    """A result list as a table with the columns a trader looks at first."""
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class Tour:
    """One MCP session, narrated: each step shows the call an LLM would make and what came back."""

    def __init__(self, client: Any, console: Console) -> None:
        self.client = client
        self.console = console
        self.step = 0

    async def call(self, title: str, tool: str, arguments: dict[str, Any]) -> Any:
        """Call one tool and print the call; returns the structured result (None on a tool error)."""
        self.step += 1
        self.console.rule(f"[bold]{self.step}. {title}", align="left")
        self.console.print(f"[dim]{tool}({json.dumps(arguments)})[/dim]")
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            self.console.print(f"[bold red]refused:[/bold red] {result.content[0].text}")
            return None
        return result.structured_content

    async def wait_for_fill(self, order_id: str) -> dict[str, Any] | None:
        """The order's row once it has a fill (the engine matches on its own clock)."""
        import anyio

        deadline = time.monotonic() + FILL_WAIT_S
        while True:
            result = await self.client.call_tool(
                "futu_get_orders", {"trd_env": "SIMULATE", "order_id": order_id}
            )
            rows = [] if result.is_error else result.structured_content.get("orders", [])
            if rows and rows[0].get("order_status") in _FILLED:
                return rows[0]
            if time.monotonic() > deadline:
                return rows[0] if rows else None
            await anyio.sleep(0.2)


def tools_table(tools: list[Any]) -> Table:
    """The tools a key sees, as tools/list returns them, grouped by their read-only hint."""
    from rich.table import Table

    groups: dict[str, list[str]] = {"read-only": [], "destructive": []}
    for tool in tools:
        hints = tool.annotations
        groups["read-only" if hints and hints.read_only_hint else "destructive"].append(tool.name)
    table = Table(show_header=True, header_style="bold")
    table.add_column("kind")
    table.add_column("tools")
    for kind, names in groups.items():
        table.add_row(f"{kind} ({len(names)})", ", ".join(sorted(names)))
    return table


async def run_tour(
    gateway: str, folder: Path, token: str, console: Console
) -> tuple[str | None, list[Any]]:
    """Drive futu-mcp over stdio: tools, quotes, a kline, the book, a filled paper buy, the
    positions, buying power, past orders, a refused order. Returns the metrics URL and the metrics read before it ended."""
    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from futucli.mcpconfig import futu_mcp_command

    keys_file, audit_log = folder / "keys.json", folder / "audit.jsonl"
    stderr_file = folder / "futu-mcp.stderr"
    params = StdioServerParameters(
        command=futu_mcp_command(),
        args=[
            "--gateway",
            gateway,
            "--keys-file",
            str(keys_file),
            "--audit-log",
            str(audit_log),
            "--metrics-listen",
            "127.0.0.1:0",
            "--toolsets",
            "default,history,calendar,derivatives",
        ],
        env={"FUTU_MCP_API_KEY": token, "HOME": str(folder)},
    )
    with (
        stderr_file.open("w") as errlog,
        anyio.fail_after(TOUR_TIMEOUT_S),
    ):
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            with console.status("Starting futu-mcp over stdio, as Claude Desktop would…"):
                tools = (await client.list_tools()).tools
            found = _METRICS_URL.search(stderr_file.read_text())
            metrics_url = found.group(1) if found else None
            await _tour(Tour(client, console), tools)
            return metrics_url, _scrape(metrics_url)


async def _tour(tour: Tour, tools: list[Any]) -> None:
    console = tour.console
    console.rule("[bold]The tools this key sees", align="left")
    console.print(tools_table(tools))
    console.print(
        f"{len(tools)} tools for scopes {', '.join(sorted(DEMO_SCOPES))}: futu_place_order is "
        "listed, but a trd_env REAL order would need the trade:real scope."
    )

    quotes = await tour.call("Quotes", "futu_get_quote", {"codes": "HK.00700,US.AAPL"})
    if quotes:
        console.print(
            rows_table(
                quotes["quotes"],
                ["code", "name", "last_price", "high_price", "low_price", "volume"],
            )
        )

    kline = await tour.call(
        "Day kline, last 5 sessions", "futu_get_kline", {"code": "HK.00700", "num": 5}
    )
    if kline:
        console.print(
            rows_table(
                kline["klines"],
                ["time_key", "open", "high", "low", "close", "volume"],
            )
        )

    book = await tour.call("Order book", "futu_get_orderbook", {"code": "HK.00700", "num": 5})
    ask = None
    if book:
        asks, bids = book.get("ask", []), book.get("bid", [])
        levels = [
            {
                "bid volume": b.get("volume"),
                "bid": b.get("price"),
                "ask": a.get("price"),
                "ask volume": a.get("volume"),
            }
            for b, a in zip(bids, asks, strict=False)
        ]
        console.print(rows_table(levels, ["bid volume", "bid", "ask", "ask volume"]))
        ask = asks[0]["price"] if asks else None
    price = ask or (quotes["quotes"][0]["last_price"] if quotes else 400)

    order = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": price}
    placed = await tour.call(
        "Buy 100 Tencent at the best ask on the paper account",
        "futu_place_order",
        {**order, "client_order_id": "demo-1"},
    )
    if placed:
        order_id = str(placed.get("order_id"))
        console.print(
            f"order {order_id}: {placed.get('status')}, value {_cell(placed.get('value'))} "
            f"{placed.get('currency', '')} (the key allows up to 100,000 per order)"
        )
        filled = await tour.wait_for_fill(order_id)
        if filled:
            console.print(
                f"[bold]{filled.get('order_status')}[/bold]: {_cell(filled.get('dealt_qty'))} "
                f"shares at {_cell(filled.get('dealt_avg_price'))} (futu_get_orders)"
            )

    positions = await tour.call("Positions after the fill", "futu_get_positions", {})
    if positions:
        console.print(
            rows_table(
                positions["positions"],
                ["code", "stock_name", "qty", "cost_price", "nominal_price", "pl_val"],
                title="every paper account the key may use (HK, US, CN), with holdings of its own",
            )
        )

    power = await tour.call(
        "How many more Tencent could I buy with my cash?",
        "futu_get_max_trd_qtys",
        {"code": "HK.00700", "price": price},
    )
    if power:
        console.print(
            f"at {_cell(price)}: {_cell(power.get('max_cash_buy'))} shares with cash, "
            f"{_cell(power.get('max_position_sell'))} held to sell (futu_get_max_trd_qtys)"
        )

    past = await tour.call(
        "What did I trade in Tencent in the last 30 days?",
        "futu_get_history_orders",
        {"code": "HK.00700", "num": 5},
    )
    if past:
        console.print(
            rows_table(
                past["orders"],
                ["create_time", "trd_side", "qty", "dealt_avg_price", "order_status"],
                title=f"the last {past['count']} of {past['total']} orders since {past['start']}",
            )
        )

    await _options_question(tour, quotes)

    await tour.call(
        "An order over the key's limit, refused before OpenD",
        "futu_place_order",
        {**order, "qty": 1000},
    )


async def _options_question(tour: Tour, quotes: dict[str, Any] | None) -> None:
    """'Which AAPL calls are near the money at the next monthly expiry, and what are their
    greeks?': expiries, the chain around spot, then the snapshots that carry the greeks."""
    expiries = await tour.call(
        "An options question: AAPL's nearest monthly expiry",
        "futu_get_option_expirations",
        {"code": "US.AAPL"},
    )
    if not expiries:
        return
    monthly = next(
        (e["strike_time"] for e in expiries["expirations"] if e["expiration_cycle"] == "MONTH"),
        None,
    )
    spot = next(
        (q["last_price"] for q in (quotes or {}).get("quotes", []) if q["code"] == "US.AAPL"), None
    )
    if monthly is None or spot is None:
        return
    tour.console.print(f"nearest monthly expiry {monthly}; AAPL at {_cell(spot)}")
    window = {"strike_min": round(spot * 0.95, 2), "strike_max": round(spot * 1.05, 2)}
    chain = await tour.call(
        "The calls within 5% of spot at that expiry",
        "futu_get_option_chain",
        {"code": "US.AAPL", "start": monthly, "end": monthly, "option_type": "CALL", **window},
    )
    if not chain or not chain["options"]:
        return
    codes = [c["code"] for c in chain["options"]]
    snaps = await tour.call(
        "Their prices and greeks", "futu_get_snapshot", {"codes": ",".join(codes)}
    )
    if snaps:
        rows = [
            {
                "code": r["code"],
                "strike": r["option_strike_price"],
                "last": r["last_price"],
                "delta": r["option_delta"],
                "IV %": r["option_implied_volatility"],
                "open interest": r["option_open_interest"],
            }
            for r in snaps["snapshots"]
        ]
        tour.console.print(rows_table(rows, list(rows[0]) if rows else []))
        size = snaps["snapshots"][0]["option_contract_multiplier"] if rows else None
        if size:
            tour.console.print(
                f"One contract is {size:g} shares (option_contract_multiplier): a premium of "
                f"5.00 costs {5 * size:,.2f} USD a contract."
            )


def _scrape(url: str | None) -> list[Any]:
    """The server's metric families, read over HTTP as Prometheus would read them."""
    if url is None:
        return []
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(url, timeout=5) as response:
        return list(text_string_to_metric_families(response.read().decode()))


def metrics_table(families: list[Any]) -> Table:
    """The samples a newcomer can relate to the tour: calls by tool and outcome, denials."""
    from rich.table import Table

    table = Table(show_header=True, header_style="bold")
    for column in ("metric", "tool or reason", "outcome", "value"):
        table.add_column(column)
    for family in families:
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "futu_mcp_calls_total":
                row = (labels.get("tool", ""), labels.get("outcome", ""))
            elif sample.name == "futu_mcp_limit_denials_total":
                row = (labels.get("reason", ""), "")
            elif sample.name == "futu_mcp_gateway_connected":
                row = ("", "")
            else:
                continue
            table.add_row(sample.name, *row, f"{sample.value:g}")
    return table


@contextlib.contextmanager
def _termination_unwinds() -> Iterator[None]:
    """While the demo runs, SIGTERM, or SIGHUP from a closed terminal, unwinds it like Ctrl-C
    does, so the temporary folder is removed and the server and simulator are stopped on those
    too. The previous handlers come back afterwards."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signums = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, interrupt) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def demo(
    seed: int = typer.Option(
        1, "--seed", help="Simulator seed: the same seed shows the same market."
    ),
) -> None:
    """Run a guided tour of futu-mcp against the simulated OpenD (no Futu account needed).

    Starts the simulator on a free loopback port, issues a demo key with limits into a temporary
    keys.json, spawns futu-mcp over stdio with the MCP SDK's client, calls its tools like an LLM
    would (quotes, a kline, the order book, a paper buy and its fill, the positions, an options
    question, an order refused by the key's limit), then shows the audit lines and metrics the run produced.
    Nothing outside a temporary folder is touched, and nothing is left running.
    """
    import anyio
    from rich.console import Console
    from rich.panel import Panel

    from futu_mcp.audit import read_records, verify_file
    from futucli.audit import records_table
    from keystore.issuing import issue_key
    from keystore.records import Limits
    from keystore.store import KeyStore
    from opend.sim import SimulatorThread

    console = Console()
    with _termination_unwinds(), tempfile.TemporaryDirectory(prefix="futu-demo-") as tmp:
        folder = Path(tmp)
        with console.status("Starting the simulated OpenD and issuing a demo key…"):
            sim = SimulatorThread(seed=seed)
            sim.start()
        try:
            token, record = issue_key(
                KeyStore(folder / "keys.json"),
                key_id=DEMO_KEY_ID,
                scopes=DEMO_SCOPES,
                limits=Limits.from_json(DEMO_LIMITS),
                note="futucli demo",
            )
            host, port = sim.address
            gateway = f"{host}:{port}"
            console.print(
                Panel.fit(
                    f"Simulated OpenD on [bold]{gateway}[/bold] (seed {seed}): paper accounts, "
                    "the real wire protocol\n"
                    f"Demo key [bold]{record.id}[/bold] (kid {record.kid}): scopes "
                    f"{', '.join(sorted(DEMO_SCOPES))}; at most HK 100,000 / US 10,000 per order, "
                    "5 orders a minute",
                    title="futu-mcp demo",
                )
            )
            metrics_url, families = anyio.run(run_tour, gateway, folder, token, console)
        except Exception as exc:
            why = f"no answer within {TOUR_TIMEOUT_S:g} s" if isinstance(exc, TimeoutError) else exc
            console.print(f"[red]the demo stopped: {why}[/red]")
            server_log = folder / "futu-mcp.stderr"
            if server_log.exists():
                console.print(server_log.read_text(), markup=False, highlight=False)
            raise typer.Exit(1) from None
        finally:
            sim.stop()

        audit_log = folder / "audit.jsonl"
        console.rule("[bold]The audit log the run wrote", align="left")
        console.print(records_table(console, read_records(audit_log), header=True))
        result = verify_file(audit_log)
        if not result.ok:
            console.print(
                f"[red]audit chain broken at line {result.first_bad_line}: {result.problem}"
            )
            raise typer.Exit(1)
        console.print(
            f"{result.lines} hash-chained lines, chain intact ([dim]futucli audit verify[/dim]); "
            "order lines were on disk before the order left."
        )
        console.rule(
            f"[bold]Metrics of key {DEMO_KEY_ID}[/bold] [dim]{metrics_url or ''}[/dim]",
            align="left",
        )
        console.print(metrics_table(families))
    console.print(
        Panel.fit(
            "A gateway to try (or Futu OpenD itself):\n"
            "  [bold]futucli sim --listen 127.0.0.1:11111[/bold]\n"
            "Your own key, straight into Claude Desktop's config:\n"
            "  [bold]futucli gen-key --id claude --scopes qot:read,acc:read \\\n"
            "    | futucli mcp-config --client claude --install --key-stdin[/bold]\n"
            "Then restart Claude Desktop and ask it for a Tencent quote.",
            title="your turn",
        )
    )


def register(app: typer.Typer) -> None:
    """Add `demo` to the futucli app."""
    app.command("demo")(demo)
