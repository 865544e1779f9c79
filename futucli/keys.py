"""`futucli gen-key | list-keys | revoke-key | rotate-key | revoke-kid`: the human side of the key
store.

Bad input is a usage error (exit 2) caught before anything is written; a failed operation
(duplicate id, unusable keys.json) exits 1. The keystore and argon2 are imported inside the
commands so `futucli --help` stays fast.
"""

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Group

    from keystore.ledger import Ledger
    from keystore.records import KeyRecord

KEYS_FILE_HELP = (
    "keys.json to use. Default: $FUTU_KEYS_FILE, else ~/.config/futu/keys.json "
    "(the platform config folder)."
)
LEDGER_HELP = (
    "The ledger futu-mcp --ledger uses: redis://HOST:PORT/DB or rediss://... "
    "(password in $FUTU_LEDGER_PASSWORD). Default: the SQLite ledger beside keys.json."
)
LedgerOption = typer.Option(None, "--ledger", metavar="URL", help=LEDGER_HELP, show_default=False)
# Ids end up in tables, audit lines and metric labels: keep them plain.
_KEY_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")
KeysFileOption = typer.Option(None, "--keys-file", help=KEYS_FILE_HELP, show_default=False)
# Below this many columns list-keys prints one labelled block per key instead of the table,
# whose ten columns would fold every cell into slivers.
WIDE_TABLE = 120
STATUS_STYLES = {"active": "green", "expired": "yellow", "revoked": "red"}


def register(app: typer.Typer) -> None:
    """Add the key commands to the futucli app."""
    app.command("gen-key")(gen_key)
    app.command("list-keys")(list_keys)
    app.command("revoke-key")(revoke_key)
    app.command("rotate-key")(rotate_key)
    app.command("revoke-kid")(revoke_kid)


def gen_key(
    key_id: str | None = typer.Option(
        None,
        "--id",
        help="Name of the key, unique in keys.json. Default: a generated id like key-7hq2mx.",
        show_default=False,
    ),
    scopes: str = typer.Option(
        "qot:read",
        "--scopes",
        help="Comma-separated: qot:read, acc:read, trade:simulate, trade:real. "
        "Default qot:read only (least privilege).",
    ),
    allowed_markets: str | None = typer.Option(
        None, "--allowed-markets", help="Comma-separated: HK, US, SH, SZ, SG, JP, AU. Default: all."
    ),
    allowed_symbols: str | None = typer.Option(
        None,
        "--allowed-symbols",
        help="Comma-separated codes, e.g. HK.00700,US.AAPL; an option, warrant or future only by "
        "its own code (US.AAPL does not allow AAPL's options). Default: all.",
    ),
    allowed_trd_sides: str | None = typer.Option(
        None,
        "--allowed-trd-sides",
        help="Comma-separated: BUY, SELL, SELL_SHORT, BUY_BACK. Default: all.",
    ),
    allowed_acc_ids: str | None = typer.Option(
        None, "--allowed-acc-ids", help="Comma-separated account ids. Default: all."
    ),
    max_order_value: str | None = typer.Option(
        None,
        "--max-order-value",
        help="Largest value of one order: 50000 (in each order's currency) or per market, "
        "HK=50000,US=6000 (*=N for markets not named). Default: unlimited.",
    ),
    max_daily_value: str | None = typer.Option(
        None,
        "--max-daily-value",
        help="Most value ordered per market per UTC day; same forms as --max-order-value.",
    ),
    max_orders_per_minute: int | None = typer.Option(
        None,
        "--max-orders-per-minute",
        help="Most place/modify orders in any 60 seconds. Default: unlimited.",
    ),
    hours_window: str | None = typer.Option(
        None,
        "--hours-window",
        help="Orders only in HH:MM-HH:MM\\[@TZ], e.g. 09:30-16:00@Asia/Hong_Kong; may cross "
        "midnight; without @TZ the times are UTC.",
    ),
    expires: str | None = typer.Option(
        None, "--expires", help="30d, 12h, 90m, 2w, or an RFC 3339 time. Default: never."
    ),
    confirm_orders: str | None = typer.Option(
        None,
        "--confirm-orders",
        help="Ask the human before an order is sent: real, all or never. "
        "Default: real for keys with trade:real, else never.",
        show_default=False,
    ),
    note: str | None = typer.Option(None, "--note", help="Free text shown in list-keys."),
    keys_file: Path | None = KeysFileOption,
) -> None:
    """Create an API key and print it ONCE (only the key when stdout is not a terminal)."""
    from keystore.errors import KeystoreError
    from keystore.issuing import issue_key, new_key_id
    from keystore.paths import resolve_keys_file
    from keystore.records import Limits
    from keystore.store import KeyStore

    limits = Limits(
        allowed_markets=_markets(allowed_markets),
        allowed_symbols=_symbols(allowed_symbols),
        allowed_trd_sides=_sides(allowed_trd_sides),
        allowed_acc_ids=_acc_ids(allowed_acc_ids),
        max_order_value=_value_limit(max_order_value, "--max-order-value"),
        max_daily_value=_value_limit(max_daily_value, "--max-daily-value"),
        max_orders_per_minute=_positive_int(max_orders_per_minute, "--max-orders-per-minute"),
        hours_window=_hours(hours_window),
    )
    scope_set = _scopes(scopes)
    expires_at = _expiry(expires)
    confirm = _confirm(confirm_orders)
    if key_id is not None and not _KEY_ID.fullmatch(key_id):
        raise typer.BadParameter(
            "1-64 characters: letters, digits, '.', '_', '-', '@'", param_hint="--id"
        )
    store = KeyStore(resolve_keys_file(keys_file))
    try:
        token, record = issue_key(
            store,
            key_id=key_id or new_key_id(),
            scopes=scope_set,
            limits=limits,
            confirm_orders=confirm,
            expires_at=expires_at,
            note=note,
        )
    except KeystoreError as exc:
        _fail(str(exc))
    _show_token(token, record, store.path, "Created")


def list_keys(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
    ledger_url: str | None = LedgerOption,
    keys_file: Path | None = KeysFileOption,
) -> None:
    """List keys with their scopes, limits and status. Never shows a hash or a secret.

    "last used" comes from the ledger: with replicas on a Redis ledger, give its --ledger.
    """
    import json

    from keystore.errors import KeystoreError
    from keystore.paths import resolve_keys_file
    from keystore.store import KeyStore

    path = resolve_keys_file(keys_file)
    try:
        records = KeyStore(path).read().records
    except KeystoreError as exc:
        _fail(str(exc))
    last_used = _last_used(path, ledger_url)
    now = datetime.now(UTC)
    if as_json:
        rows = [_json_row(r, last_used.get(r.id), now) for r in records]
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not records:
        console.print(f"No keys in {path}. Create one with [bold]futucli gen-key[/bold].")
        return
    if console.width < WIDE_TABLE:
        console.print(str(path), markup=False, highlight=False)
        for record in records:
            console.print()
            console.print(_key_card(record, last_used.get(record.id), now))
        return
    from rich import box
    from rich.markup import escape

    table = Table(title=str(path), title_justify="left", box=box.SIMPLE_HEAD)
    widths = {"kid": 8, "status": 7}
    for column in ("id", "kid", "scopes", "markets", "limits", "created", "expires", "status"):
        # Fold rather than truncate: a cut-off limit would misstate what the key may do.
        table.add_column(column, overflow="fold", min_width=widths.get(column))
    table.add_column("last used", overflow="fold")
    table.add_column("note", overflow="fold")
    for record in records:
        status = record.status(now)
        markets = record.limits.allowed_markets
        table.add_row(
            escape(record.id),
            record.kid,
            escape("\n".join(sorted(record.scopes))),
            escape(",".join(sorted(markets)) if markets is not None else "all"),
            escape(_limits_summary(record).replace("; ", "\n")),
            _when(record.created_at),
            _when(record.expires_at) if record.expires_at else "never",
            f"[{STATUS_STYLES[status]}]{status}[/]",
            _when(last_used[record.id]) if record.id in last_used else "never",
            escape(record.note or ""),
        )
    console.print(table)


def _key_card(record: "KeyRecord", last_used: datetime | None, now: datetime) -> "Group":
    """One key as labelled lines, for terminals too narrow for the ten-column table."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    status = record.status(now)
    markets = record.limits.allowed_markets
    title = Text.assemble((record.id, "bold"), f"  kid {record.kid}  ")
    title.append(status, style=STATUS_STYLES[status])
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim", no_wrap=True)
    fields.add_column(overflow="fold")
    rows = [
        ("scopes", ", ".join(sorted(record.scopes))),
        ("markets", ",".join(sorted(markets)) if markets is not None else "all"),
        ("limits", _limits_summary(record)),
        ("created", _when(record.created_at).replace("\n", " ")),
        ("expires", _when(record.expires_at).replace("\n", " ") if record.expires_at else "never"),
        ("last used", _when(last_used).replace("\n", " ") if last_used else "never"),
    ]
    if record.note:
        rows.append(("note", record.note))
    for label, value in rows:
        fields.add_row(f"  {label}", Text(value))
    return Group(title, fields)


def revoke_key(
    key_id: str = typer.Argument(..., metavar="ID", help="The key's id (see list-keys)."),
    ledger_url: str | None = LedgerOption,
    keys_file: Path | None = KeysFileOption,
) -> None:
    """Revoke a key: a running futu-mcp refuses it from its next request on.

    With --ledger, the revocation is also recorded there, so every replica refuses the key
    within a second, even one whose copy of keys.json is stale.
    """
    from keystore.errors import KeystoreError
    from keystore.paths import resolve_keys_file
    from keystore.store import KeyStore

    store = KeyStore(resolve_keys_file(keys_file))
    ledger = open_cli_ledger(ledger_url, store.path) if ledger_url else None
    try:
        current = store.read().by_id(key_id)
        if current is not None and current.revoked_at is not None:
            typer.echo(f"key {key_id} was already revoked at {_when(current.revoked_at)}")
            record = current
        else:
            record = store.revoke(key_id)
            typer.echo(f"revoked key {key_id} (kid {record.kid})")
    except KeystoreError as exc:
        _fail(str(exc))
    if ledger is not None:
        retry = _command("revoke-key", key_id, ledger_url=ledger_url, keys_file=keys_file)
        _record_revocation(ledger, record.kid, retry)


def rotate_key(
    key_id: str = typer.Argument(..., metavar="ID", help="The key's id (see list-keys)."),
    ledger_url: str | None = LedgerOption,
    keys_file: Path | None = KeysFileOption,
) -> None:
    """Give a key a new secret with the same policy; the old one stops working at once.

    With --ledger, the old kid's revocation is also recorded there (see revoke-key); if the
    ledger cannot be reached, the message gives the revoke-kid command that records it later.
    """
    from keystore.errors import KeystoreError
    from keystore.issuing import rotate_key as rotate
    from keystore.paths import resolve_keys_file
    from keystore.store import KeyStore

    store = KeyStore(resolve_keys_file(keys_file))
    ledger = open_cli_ledger(ledger_url, store.path) if ledger_url else None
    try:
        before = store.read().by_id(key_id)
        token, record = rotate(store, key_id)
    except KeystoreError as exc:
        _fail(str(exc))
    _show_token(token, record, store.path, "Rotated")
    if ledger is not None and before is not None:
        # Not `revoke-key ID`: ID now names the new secret, which must keep working.
        retry = _command("revoke-kid", before.kid, ledger_url=ledger_url, keys_file=keys_file)
        _record_revocation(ledger, before.kid, retry)


def revoke_kid(
    kid: str = typer.Argument(
        ..., metavar="KID", help="The kid to record, as rotate-key's message names it."
    ),
    ledger_url: str | None = LedgerOption,
    keys_file: Path | None = KeysFileOption,
) -> None:
    """Record in the ledger that the token with this kid is revoked; keys.json is not changed.

    When rotate-key --ledger cannot reach the ledger, it names this command with the old kid:
    once that is recorded, replicas with a stale keys.json refuse the old token too. A kid that
    a key not revoked still has is refused here: end that key with revoke-key.
    """
    from keystore.errors import KeystoreError
    from keystore.paths import resolve_keys_file
    from keystore.store import KeyStore
    from keystore.tokens import is_kid

    if not is_kid(kid):
        raise typer.BadParameter("a kid is 8 letters and digits", param_hint="KID")
    path = resolve_keys_file(keys_file)
    try:
        records = KeyStore(path).read().records
    except KeystoreError as exc:
        _fail(str(exc))
    owner = next((r for r in records if r.kid == kid and r.revoked_at is None), None)
    if owner is not None:
        # Recorded, the key would be refused by replicas while keys.json calls it active.
        revoke = _command("revoke-key", owner.id, ledger_url=ledger_url, keys_file=keys_file)
        _fail(
            f"kid {kid} is the current kid of key {owner.id}, which is not revoked: run `{revoke}`"
        )
    ledger = open_cli_ledger(ledger_url, path)
    retry = _command("revoke-kid", kid, ledger_url=ledger_url, keys_file=keys_file)
    _record_revocation(ledger, kid, retry, keys_json_updated=False)


def _command(*words: str, ledger_url: str | None, keys_file: Path | None) -> str:
    """The futucli command line that repeats a step with the same ledger and keys.json (the
    URL has no password: open_cli_ledger refuses one on the command line)."""
    import shlex

    args = ["futucli", *words]
    if ledger_url is not None:
        args += ["--ledger", ledger_url]
    if keys_file is not None:
        args += ["--keys-file", str(keys_file)]
    return shlex.join(args)


def open_cli_ledger(url: str | None, keys_path: Path) -> "Ledger":
    """The ledger `--ledger` names (usage error for a password in it: ps shows arguments)."""
    import os

    from keystore.errors import KeystoreError
    from keystore.ledger import LEDGER_PASSWORD_ENV, open_ledger, url_has_password

    if url is not None and url_has_password(url):
        raise typer.BadParameter(
            f"put the Redis password in {LEDGER_PASSWORD_ENV}, not on the command line",
            param_hint="--ledger",
        )
    try:
        return open_ledger(url, keys_path, password=os.environ.get(LEDGER_PASSWORD_ENV))
    except KeystoreError as exc:
        _fail(str(exc))


def _record_revocation(
    ledger: "Ledger", kid: str, retry: str, *, keys_json_updated: bool = True
) -> None:
    """Record a revoked kid in the shared ledger; a failure is reported with `retry`, the
    command that records exactly this kid once the ledger is back."""
    from keystore.errors import KeystoreError

    try:
        ledger.record_revocation(kid)
    except KeystoreError as exc:
        _fail(
            ("keys.json is updated, but the" if keys_json_updated else "the")
            + f" revocation of kid {kid} is NOT recorded in the ledger ({exc}); replicas with a "
            f"stale keys.json still accept it: run `{retry}` when the ledger is back"
        )
    finally:
        ledger.close()
    typer.echo(f"recorded the revocation of kid {kid} in {ledger.describe()}", err=True)


def _show_token(token: str, record: "KeyRecord", path: Path, verb: str) -> None:
    if not sys.stdout.isatty():
        # Scripts capture exactly the token.
        sys.stdout.write(token + "\n")
        return
    from rich.console import Console
    from rich.panel import Panel

    console = Console()
    console.print(
        f"{verb} key [bold]{record.id}[/bold] (kid {record.kid}) in {path}\n"
        f"scopes: {', '.join(sorted(record.scopes))}"
    )
    console.print(Panel(token, title="API key", expand=False), soft_wrap=True)
    console.print(
        "[bold yellow]Copy it now: it cannot be shown again.[/] keys.json keeps only its hash; "
        "a lost key is revoked and replaced."
    )


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _choices(
    raw: str | None, valid: tuple[str, ...], what: str, hint: str
) -> frozenset[str] | None:
    if raw is None:
        return None
    items = [item.upper() for item in _split(raw)]
    if not items:
        raise typer.BadParameter(f"no {what} given", param_hint=hint)
    unknown = [item for item in items if item not in valid]
    if unknown:
        raise typer.BadParameter(
            f"unknown {what} {', '.join(unknown)} (valid: {', '.join(valid)})", param_hint=hint
        )
    return frozenset(items)


def _scopes(raw: str) -> frozenset[str]:
    from keystore.policy import SCOPES

    items = _split(raw)
    if not items:
        raise typer.BadParameter("no scope given", param_hint="--scopes")
    unknown = [item for item in items if item not in SCOPES]
    if unknown:
        raise typer.BadParameter(
            f"unknown scope {', '.join(unknown)} (valid: {', '.join(SCOPES)})",
            param_hint="--scopes",
        )
    return frozenset(items)


def _markets(raw: str | None) -> frozenset[str] | None:
    from keystore.records import MARKETS

    return _choices(raw, MARKETS, "market", "--allowed-markets")


def _sides(raw: str | None) -> frozenset[str] | None:
    from keystore.policy import TRD_SIDES

    return _choices(raw, TRD_SIDES, "side", "--allowed-trd-sides")


def _symbols(raw: str | None) -> frozenset[str] | None:
    from keystore.records import MARKETS

    if raw is None:
        return None
    items = [item.upper() for item in _split(raw)]
    if not items:
        raise typer.BadParameter("no symbol given", param_hint="--allowed-symbols")
    for item in items:
        market, dot, code = item.partition(".")
        if dot and (market not in MARKETS or not code):
            raise typer.BadParameter(
                f"{item}: expected MARKET.CODE with a market in {', '.join(MARKETS)}",
                param_hint="--allowed-symbols",
            )
    return frozenset(items)


def _acc_ids(raw: str | None) -> frozenset[int] | None:
    if raw is None:
        return None
    items = _split(raw)
    # isdigit() alone lets through "²" (int() then fails) and non-ASCII digits.
    if not items or not all(item.isascii() and item.isdigit() for item in items):
        raise typer.BadParameter(
            "expected comma-separated account ids (digits)", param_hint="--allowed-acc-ids"
        )
    return frozenset(int(item) for item in items)


def _value_limit(raw: str | None, hint: str) -> Any:
    from keystore.records import ValueLimit

    if raw is None:
        return None
    try:
        return ValueLimit.parse(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def _positive_int(value: int | None, hint: str) -> int | None:
    if value is not None and value <= 0:
        raise typer.BadParameter(f"must be positive, got {value}", param_hint=hint)
    return value


def _hours(raw: str | None) -> Any:
    from keystore.records import HoursWindow

    if raw is None:
        return None
    try:
        return HoursWindow.parse(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--hours-window") from None


def _expiry(raw: str | None) -> datetime | None:
    from keystore.records import parse_expiry

    if raw is None:
        return None
    try:
        return parse_expiry(raw).replace(microsecond=0)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires") from None


def _confirm(raw: str | None) -> Any:
    from keystore.records import CONFIRM_CHOICES

    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in CONFIRM_CHOICES:
        raise typer.BadParameter(
            f"expected one of {', '.join(CONFIRM_CHOICES)}, got {raw!r}",
            param_hint="--confirm-orders",
        )
    return value


def _last_used(keys_path: Path, ledger_url: str | None) -> dict[str, datetime]:
    """When each key was last used, from the ledger; {} when the default SQLite ledger does not
    exist yet or the ledger cannot be read (the listing matters more than this column)."""
    from keystore.errors import KeystoreError
    from keystore.ledger import SqliteLedger
    from keystore.paths import ledger_path

    if ledger_url is None:
        path = ledger_path(keys_path)
        if not path.exists():
            return {}
        try:
            return SqliteLedger(path).last_used()
        except (KeystoreError, OSError):
            return {}
    ledger = open_cli_ledger(ledger_url, keys_path)
    try:
        return ledger.last_used()
    except KeystoreError as exc:
        typer.echo(f"warning: last use unknown: {exc}", err=True)
        return {}
    finally:
        ledger.close()


def _limits_summary(record: "KeyRecord") -> str:
    limits = record.limits
    parts = []
    if limits.max_order_value is not None:
        parts.append(f"order≤{limits.max_order_value}")
    if limits.max_daily_value is not None:
        parts.append(f"day≤{limits.max_daily_value}")
    if limits.max_orders_per_minute is not None:
        parts.append(f"{limits.max_orders_per_minute}/min")
    if limits.hours_window is not None:
        parts.append(str(limits.hours_window))
    if limits.allowed_symbols is not None:
        parts.append("symbols " + ",".join(sorted(limits.allowed_symbols)))
    if limits.allowed_trd_sides is not None:
        parts.append("sides " + ",".join(sorted(limits.allowed_trd_sides)))
    if limits.allowed_acc_ids is not None:
        parts.append("acc " + ",".join(str(a) for a in sorted(limits.allowed_acc_ids)))
    if record.confirm_orders != "never":
        parts.append(f"confirm {record.confirm_orders}")
    return "; ".join(parts) or "none"


def _json_row(record: "KeyRecord", last_used: datetime | None, now: datetime) -> dict[str, Any]:
    from keystore.records import format_time

    return {
        **record.public_json(),
        "status": record.status(now),
        "last_used": format_time(last_used) if last_used else None,
    }


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d\n%H:%MZ")
