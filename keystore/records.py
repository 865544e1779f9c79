"""Key records as held in keys.json, and the parsing of their limit values.

Both layouts are read: ours (nested `limits`) and the flat one of the FUTU-OpenD-rs docker
bundle; records are always written nested. Unknown fields (e.g. FUTU-OpenD-rs's
`allowed_machines`) are kept, so rewriting a file never drops what another tool put there.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from keystore.hashing import is_supported_hash, sha256_digest

ConfirmOrders = Literal["real", "all", "never"]
CONFIRM_CHOICES: tuple[str, ...] = ("real", "all", "never")
LIMIT_FIELDS: tuple[str, ...] = (
    "allowed_markets",
    "allowed_symbols",
    "allowed_trd_sides",
    "allowed_acc_ids",
    "max_order_value",
    "max_daily_value",
    "max_orders_per_minute",
    "hours_window",
)
_RECORD_FIELDS = frozenset(
    {
        "id",
        "kid",
        "hash",
        "scopes",
        "limits",
        "confirm_orders",
        "created_at",
        "expires_at",
        "revoked_at",
        "note",
    }
)
DEFAULT_MARKET_KEY = "*"
# The markets a limit may name (DESIGN.md); a name outside them is a typo that would cap nothing.
MARKETS: tuple[str, ...] = ("HK", "US", "SH", "SZ", "SG", "JP", "AU")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})(?:@(\S+))?")
_DURATION = re.compile(r"(\d+)([smhdw])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_amount(raw: object) -> Decimal:
    """A positive, finite money amount from JSON or the command line."""
    if isinstance(raw, bool):
        raise ValueError(f"not an amount: {raw!r}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"must be a positive number, got {raw!r}")
    return value


def format_amount(value: Decimal) -> str:
    """A Decimal as plain digits (`60000`, `12.5`), never in exponent form."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class ValueLimit:
    """A money cap: one number in each order's own currency, or one per market."""

    default: Decimal | None
    per_market: Mapping[str, Decimal] = field(default_factory=dict)

    def for_market(self, market: str | None) -> Decimal | None:
        """The cap for orders in `market`; a market the limit does not name gets `default`."""
        if market is not None and market in self.per_market:
            return self.per_market[market]
        return self.default

    @classmethod
    def parse(cls, raw: object, markets: Iterable[str] = MARKETS) -> "ValueLimit":
        """From `50000`, `HK=50000,US=6000` (`*=N` for other markets) or a JSON object.

        A market name outside `markets` is an error: a cap on a misspelt market (`HKG=50000`)
        would leave the real one unlimited.
        """
        if isinstance(raw, Mapping):
            items = [(str(k), v) for k, v in raw.items()]
        elif isinstance(raw, str) and "=" in raw:
            items = []
            for part in raw.split(","):
                name, sep, amount = part.partition("=")
                if not sep:
                    raise ValueError(f"expected MARKET=AMOUNT, got {part.strip()!r}")
                items.append((name, amount))
        else:
            return cls(parse_amount(raw))
        allowed = frozenset(markets)
        default: Decimal | None = None
        per_market: dict[str, Decimal] = {}
        for name, amount in items:
            market = name.strip().upper()
            if market == DEFAULT_MARKET_KEY:
                default = parse_amount(amount)
                continue
            if market not in allowed:
                valid = ", ".join(sorted(allowed))
                raise ValueError(f"unknown market {name.strip()!r} (valid: {valid})")
            if market in per_market:
                raise ValueError(f"market {market} given twice")
            per_market[market] = parse_amount(amount)
        if not per_market and default is None:
            raise ValueError("no amount given")
        return cls(default, per_market)

    def to_json(self) -> object:
        """A number when there is one cap, else an object of per-market caps."""
        if not self.per_market and self.default is not None:
            return _json_number(self.default)
        out: dict[str, object] = {m: _json_number(v) for m, v in self.per_market.items()}
        if self.default is not None:
            out[DEFAULT_MARKET_KEY] = _json_number(self.default)
        return out

    def __str__(self) -> str:
        if not self.per_market and self.default is not None:
            return format_amount(self.default)
        parts = [f"{m}={format_amount(v)}" for m, v in self.per_market.items()]
        if self.default is not None:
            parts.append(f"{DEFAULT_MARKET_KEY}={format_amount(self.default)}")
        return ",".join(parts)


@dataclass(frozen=True)
class HoursWindow:
    """When a key may trade: `HH:MM-HH:MM[@TZ]`, may cross midnight; no `@TZ` means UTC."""

    start: time
    end: time
    tz: str | None = None

    @classmethod
    def parse(cls, text: str) -> "HoursWindow":
        """Parse `09:30-16:00@Asia/Hong_Kong`; raises ValueError with the reason."""
        match = _HOURS.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"expected HH:MM-HH:MM[@TZ], got {text!r}")
        h1, m1, h2, m2, tz = match.groups()
        try:
            start = time(int(h1), int(m1))
            end = time(int(h2), int(m2))
        except ValueError:
            raise ValueError(f"not a time of day in {text!r}") from None
        if start == end:
            raise ValueError(f"start and end are the same in {text!r}")
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {tz!r}") from None
        return cls(start, end, tz)

    def contains(self, now: datetime) -> bool:
        """Whether `now` (timezone-aware) is inside the window, end excluded."""
        local = now.astimezone(ZoneInfo(self.tz) if self.tz else UTC).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        text = f"{self.start:%H:%M}-{self.end:%H:%M}"
        return f"{text}@{self.tz}" if self.tz else text


@dataclass(frozen=True)
class Limits:
    """Everything a key is restricted to; None means unlimited."""

    allowed_markets: frozenset[str] | None = None
    allowed_symbols: frozenset[str] | None = None
    allowed_trd_sides: frozenset[str] | None = None
    allowed_acc_ids: frozenset[int] | None = None
    max_order_value: ValueLimit | None = None
    max_daily_value: ValueLimit | None = None
    max_orders_per_minute: int | None = None
    hours_window: HoursWindow | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Limits":
        """From the `limits` object (or a flat record); raises ValueError naming the field."""
        values: dict[str, Any] = {}
        for name in LIMIT_FIELDS:
            raw = obj.get(name)
            if raw is None:
                continue
            try:
                values[name] = _parse_limit(name, raw)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The nested `limits` object, every field present (null = unlimited)."""
        return {
            "allowed_markets": _sorted_or_none(self.allowed_markets),
            "allowed_symbols": _sorted_or_none(self.allowed_symbols),
            "allowed_trd_sides": _sorted_or_none(self.allowed_trd_sides),
            "allowed_acc_ids": _sorted_or_none(self.allowed_acc_ids),
            "max_order_value": self.max_order_value.to_json() if self.max_order_value else None,
            "max_daily_value": self.max_daily_value.to_json() if self.max_daily_value else None,
            "max_orders_per_minute": self.max_orders_per_minute,
            "hours_window": str(self.hours_window) if self.hours_window else None,
        }


@dataclass(frozen=True)
class KeyRecord:
    """One API key as stored: its policy and its hash, never the token."""

    id: str
    kid: str
    hash: str
    scopes: frozenset[str]
    limits: Limits
    confirm_orders: ConfirmOrders
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    note: str | None = None
    # Fields this version does not know, written back unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict)
    # False when the file had no kid (a FUTU-OpenD-rs record): the kid shown is derived from
    # the hash and is not written back.
    kid_stored: bool = True

    def status(self, now: datetime | None = None) -> Literal["active", "expired", "revoked"]:
        """What list-keys shows; revocation wins over expiry."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return "expired"
        return "active"

    @classmethod
    def from_json(cls, obj: object) -> "KeyRecord":
        """Parse one record (nested or flat layout); raises ValueError saying what is wrong."""
        if not isinstance(obj, Mapping):
            raise ValueError("a key record must be an object")
        key_id = obj.get("id")
        if not isinstance(key_id, str) or not key_id:
            raise ValueError("id: missing or not a string")
        stored_hash = obj.get("hash")
        if not isinstance(stored_hash, str) or not is_supported_hash(stored_hash):
            raise ValueError(f"{key_id}: hash: expected $argon2id$... or sha256:<64 hex>")
        kid = obj.get("kid")
        kid_stored = kid is not None
        if kid is None:
            digest = sha256_digest(stored_hash)
            if digest is None:
                raise ValueError(f"{key_id}: kid: missing (needed with an argon2 hash)")
            kid = digest[:8]
        elif not isinstance(kid, str) or not re.fullmatch(r"[0-9A-Za-z]{8}", kid):
            raise ValueError(f"{key_id}: kid: expected 8 base62 characters")
        try:
            scopes = _str_set(obj.get("scopes") or [], upper=False)
            nested = obj.get("limits")
            if nested is not None and not isinstance(nested, Mapping):
                raise ValueError("limits: expected an object")
            if nested is not None and any(obj.get(name) is not None for name in LIMIT_FIELDS):
                # Which one would apply is a guess; refusing is the safe answer.
                raise ValueError("limits given both nested in `limits` and at record level")
            limits = Limits.from_json(nested if nested is not None else obj)
            confirm = obj.get("confirm_orders")
            if confirm is None:
                confirm = "real" if "trade:real" in scopes else "never"
            if confirm not in CONFIRM_CHOICES:
                raise ValueError(f"confirm_orders: expected one of {', '.join(CONFIRM_CHOICES)}")
            created = _parse_time(obj.get("created_at"), "created_at")
            if created is None:
                raise ValueError("created_at: missing")
            note = obj.get("note")
            if note is not None and not isinstance(note, str):
                raise ValueError("note: expected a string")
        except ValueError as exc:
            raise ValueError(f"{key_id}: {exc}") from None
        nested_layout = nested is not None
        extra = {
            k: v
            for k, v in obj.items()
            if k not in _RECORD_FIELDS and (nested_layout or k not in LIMIT_FIELDS)
        }
        return cls(
            id=key_id,
            kid=kid,
            hash=stored_hash,
            scopes=scopes,
            limits=limits,
            confirm_orders=confirm,
            created_at=created,
            expires_at=_parse_time(obj.get("expires_at"), f"{key_id}: expires_at"),
            revoked_at=_parse_time(obj.get("revoked_at"), f"{key_id}: revoked_at"),
            note=note,
            extra=extra,
            kid_stored=kid_stored,
        )

    def to_json(self) -> dict[str, Any]:
        """The record in the documented (nested) layout."""
        out: dict[str, Any] = {"id": self.id}
        if self.kid_stored:
            out["kid"] = self.kid
        out.update(
            {
                "hash": self.hash,
                "scopes": sorted(self.scopes),
                "limits": self.limits.to_json(),
                "confirm_orders": self.confirm_orders,
                "created_at": format_time(self.created_at),
                "expires_at": format_time(self.expires_at) if self.expires_at else None,
                "revoked_at": format_time(self.revoked_at) if self.revoked_at else None,
                "note": self.note,
            }
        )
        out.update(self.extra)
        return out

    def public_json(self) -> dict[str, Any]:
        """The record without its hash (list-keys --json): everything a script may see."""
        out = self.to_json()
        del out["hash"]
        out["kid"] = self.kid
        return out


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as written to keys.json."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now (`30d`, `12h`, `90m`, `2w`) or an RFC 3339 time.

    A time without an offset is UTC. Raises ValueError for a bad or past value.
    """
    now = now or datetime.now(UTC)
    raw = text.strip()
    match = _DURATION.fullmatch(raw)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ValueError(f"duration must be positive, got {text!r}")
        return now + timedelta(**{_DURATION_UNITS[match.group(2)]: amount})
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"expected a duration like 30d or 12h, or an RFC 3339 time; got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when <= now:
        raise ValueError(f"{text!r} is in the past")
    return when


def _parse_limit(name: str, raw: object) -> object:
    if name in ("allowed_markets", "allowed_symbols", "allowed_trd_sides"):
        return _str_set(raw, upper=True)
    if name == "allowed_acc_ids":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise ValueError("expected a list of account ids")
        try:
            return frozenset(int(str(i).strip()) for i in items if str(i).strip())
        except ValueError:
            raise ValueError("account ids must be integers") from None
    if name in ("max_order_value", "max_daily_value"):
        return ValueLimit.parse(raw)
    if name == "max_orders_per_minute":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("expected a positive integer")
        try:
            count = int(raw)
        except ValueError:
            raise ValueError("expected a positive integer") from None
        if count <= 0:
            raise ValueError("expected a positive integer")
        return count
    if name == "hours_window":
        if not isinstance(raw, str):
            raise ValueError("expected HH:MM-HH:MM[@TZ]")
        return HoursWindow.parse(raw)
    raise AssertionError(name)


def _str_set(raw: object, *, upper: bool) -> frozenset[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("expected a list of strings")
    cleaned = (i.strip() for i in items)
    return frozenset((i.upper() if upper else i) for i in cleaned if i)


def _sorted_or_none(values: frozenset[Any] | None) -> list[Any] | None:
    return None if values is None else sorted(values)


def _parse_time(raw: object, where: str) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError):
            # Else the error escapes as something other than KeysFileError: a traceback.
            raise ValueError(f"{where}: not a time: {raw!r}") from None
    if not isinstance(raw, str):
        raise ValueError(f"{where}: expected an RFC 3339 time")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{where}: expected an RFC 3339 time, got {raw!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
