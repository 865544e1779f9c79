"""`futucli demo`: a guided tour of futu-mcp on the simulated OpenD, with nothing to set up.

The demo takes the real path end to end, so what a newcomer sees is what their LLM client will
get: a simulated OpenD on a free loopback port, a freshly issued key with limits, `futu-mcp`
spawned over stdio by the MCP SDK's own client, and its audit log verified at the end. Everything
lives in a temporary folder that is removed afterwards; the user's keys.json is never touched.
"""

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

DEMO_KEY_ID = "demo-bot"
DEMO_SCOPES = frozenset({"qot:read", "acc:read", "trade:simulate"})
DEMO_LIMITS = {"max_order_value": "HK=100000,US=10000", "max_orders_per_minute": 5}


def _futu_mcp_command() -> str:
    return str(Path(sys.argv[0]).resolve().parent / "futu-mcp")


def _rows_table(rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(show_header=True, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    return table


class Tour:
    """One MCP session, narrated: each step shows the call an LLM would make and what came back."""

    def __init__(self, client: Any, console: Console) -> None:
        self.client = client
        self.console = console
        self.step = 0

    async def call(self, title: str, tool: str, arguments: dict[str, Any]) -> Any:
        """Call one tool and print the call; returns the structured result (None on a tool error)."""
        self.step += 1
        self.console.rule(f"[bold]{self.step}. {title}")
        self.console.print(f"[dim]{tool}({json.dumps(arguments)})[/dim]")
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            self.console.print(f"[bold red]refused:[/bold red] {result.content[0].text}")
            return None
        return result.structured_content


async def run_tour(
    gateway: str, keys_file: Path, audit_log: Path, token: str, console: Console
) -> None:
    """Drive futu-mcp over stdio through quotes, account, an order, a refusal and a cancel."""
    import os

    from mcp import Client, StdioServerParameters

    env = dict(os.environ, FUTU_MCP_API_KEY=token, FUTU_KEYS_FILE=str(keys_file))
    params = StdioServerParameters(
        command=_futu_mcp_command(),
        args=["--gateway", gateway, "--keys-file", str(keys_file), "--audit-log", str(audit_log)],
        env=env,
    )
    async with Client(params, mode="legacy") as client:
        tools = await client.list_tools()
        names = sorted(tool.name for tool in tools.tools)
        console.print(
            f"futu-mcp answers over stdio with [bold]{len(names)}[/bold] tools for this key "
            f"(scopes {', '.join(sorted(DEMO_SCOPES))}; trade:real tools act only with that scope)."
        )
        tour = Tour(client, console)

        ping = await tour.call("Is OpenD usable?", "futu_ping", {})
        if ping:
            state = ping.get("global_state") or {}
            console.print(
                f"connected: {ping['connected']}   HK market: {state.get('market_hk')}   "
                f"US market: {state.get('market_us')}   key: {ping.get('key_id')}"
            )

        quotes = await tour.call(
            "Quotes", "futu_get_quote", {"codes": "HK.00700,US.AAPL,SH.600519"}
        )
        if quotes:
            console.print(
                _rows_table(
                    quotes["quotes"],
                    ["code", "name", "last_price", "high_price", "low_price", "volume"],
                )
            )

        book = await tour.call("Order book", "futu_get_orderbook", {"code": "HK.00700", "num": 5})
        bid = None
        if book:
            asks, bids = book.get("ask", []), book.get("bid", [])
            if asks and bids:
                console.print(
                    f"best ask {asks[0]['price']} x {asks[0]['volume']}   "
                    f"best bid {bids[0]['price']} x {bids[0]['volume']}"
                )
                bid = bids[0]["price"]

        accounts = await tour.call(
            "Paper-trading accounts", "futu_list_accounts", {"trd_env": "SIMULATE"}
        )
        if accounts:
            rows = accounts.get("accounts", [])
            console.print(
                _rows_table(rows, ["acc_id", "trd_env", "trdmarket_authority", "acc_type"])
            )

        # At the best bid the buy order rests on the book, so there is something to cancel.
        price = bid or (quotes["quotes"][0]["last_price"] if quotes else 400)
        order = await tour.call(
            "Dry run: every check, nothing sent",
            "futu_place_order",
            {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": price, "dry_run": True},
        )
        if order:
            console.print(order)
        placed = await tour.call(
            "Buy 100 Tencent at the bid on the paper account",
            "futu_place_order",
            {
                "code": "HK.00700",
                "trd_side": "BUY",
                "qty": 100,
                "price": price,
                "client_order_id": "demo-1",
            },
        )
        if placed:
            console.print(placed)
        await tour.call(
            "An order over the key's limit (HK 100,000) is refused before it reaches OpenD",
            "futu_place_order",
            {"code": "HK.00700", "trd_side": "BUY", "qty": 1000, "price": price},
        )
        await tour.call(
            "A real-money order without the trade:real scope",
            "futu_place_order",
            {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": price, "trd_env": "REAL"},
        )
        orders = await tour.call("Today's orders", "futu_get_orders", {"trd_env": "SIMULATE"})
        if orders:
            rows = orders.get("orders", [])
            console.print(
                _rows_table(rows, ["order_id", "code", "trd_side", "qty", "price", "order_status"])
            )
            open_ids = [
                r["order_id"] for r in rows if r.get("order_status") in ("SUBMITTED", "FILLED_PART")
            ]
            if open_ids:
                cancelled = await tour.call(
                    "Cancel it (a cancel is never limited)",
                    "futu_cancel_order",
                    {"order_id": open_ids[0]},
                )
                if cancelled:
                    console.print(cancelled)


def demo(
    seed: int = typer.Option(
        1, "--seed", help="Simulator seed: the same seed shows the same market."
    ),
) -> None:
    """Run a guided tour of futu-mcp against the simulated OpenD (no Futu account needed).

    Starts the simulator on a free loopback port, issues a demo key with limits into a temporary
    keys.json, spawns futu-mcp over stdio with the MCP SDK's client, calls its tools like an LLM
    would, and verifies the audit log. Nothing outside a temporary folder is touched.
    """
    import anyio

    from futu_mcp.audit import verify_file
    from keystore.issuing import issue_key
    from keystore.records import Limits
    from keystore.store import KeyStore
    from opend.sim import SimulatorThread

    console = Console()
    with (
        tempfile.TemporaryDirectory(prefix="futu-demo-") as folder,
        SimulatorThread(seed=seed) as sim,
    ):
        home = Path(folder)
        keys_file = home / "keys.json"
        audit_log = home / "audit.jsonl"
        token, record = issue_key(
            KeyStore(keys_file),
            key_id=DEMO_KEY_ID,
            scopes=DEMO_SCOPES,
            limits=Limits.from_json(DEMO_LIMITS),
            note="futucli demo",
        )
        host, port = sim.address
        gateway = f"{host}:{port}"
        console.print(
            Panel.fit(
                f"Simulated OpenD on [bold]{gateway}[/bold] (seed {seed})\n"
                f"Demo key [bold]{record.id}[/bold] (kid {record.kid}): "
                f"scopes {', '.join(sorted(DEMO_SCOPES))}, max order value HK=100000/US=10000, 5 orders/min\n"
                f"Audit log {audit_log}",
                title="futu-mcp demo",
            )
        )
        anyio.run(run_tour, gateway, keys_file, audit_log, token, console)
        result = verify_file(audit_log)
        console.rule("[bold]Audit log")
        if result.ok:
            console.print(
                f"{result.lines} hash-chained lines, chain intact ([dim]futucli audit verify[/dim])."
            )
        else:
            console.print(
                f"[red]audit chain broken at line {result.first_bad_line}: {result.problem}"
            )
            raise typer.Exit(1)
    console.print(
        Panel.fit(
            "Next: [bold]futucli gen-key --scopes qot:read,acc:read[/bold] for your own key, then\n"
            "[bold]futucli mcp-config[/bold] for the snippet your MCP client needs.\n"
            "Try it on the simulator first: [bold]futucli sim --listen 127.0.0.1:11111[/bold].",
            title="your turn",
        )
    )


def register(app: typer.Typer) -> None:
    """Add `demo` to the futucli app."""
    app.command("demo")(demo)
