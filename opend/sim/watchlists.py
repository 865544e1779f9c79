"""The simulated user's watchlists (Futu's system groups plus a few custom ones) and price
reminders.

System groups mirror the custom ones by market, as Futu's app fills them ("All" holds every
watched code); the "Options" group follows the nearest AAPL and Tencent monthly series around
the money, so it never names an expired contract. Reminders sit at levels around each stock's
usual price, on the tick grid, as a user would set them.
"""

from dataclasses import dataclass
from datetime import date

from opend.codes import QotMarket
from opend.enums import PriceReminderFreq, PriceReminderType, UserSecurityGroupType
from opend.sim import options
from opend.sim.universe import SECURITIES, round_to_tick

CUSTOM_GROUPS: dict[str, tuple[str, ...]] = {
    "Tech Leaders": ("US.AAPL", "US.MSFT", "US.NVDA", "HK.00700", "HK.09988", "US.GOOGL"),
    "Dividend Income": ("HK.00005", "HK.00941", "HK.00939", "SH.601398", "SH.600900", "US.JPM"),
    "EV & Batteries": ("US.TSLA", "HK.01211", "SZ.300750", "SZ.002594", "HK.01810"),
}
# System groups by name and the markets whose watched codes they hold; Futu refuses to list
# the positions, fund and forex groups through the API, so they are not offered here.
SYSTEM_GROUPS: dict[str, tuple[QotMarket, ...] | None] = {
    "All": None,
    "HK": (QotMarket.HK,),
    "US": (QotMarket.US,),
    "CN": (QotMarket.SH, QotMarket.SZ),
    "Options": (),
}


def groups(kind: UserSecurityGroupType) -> list[tuple[str, UserSecurityGroupType]]:
    """The groups of a kind (ALL: system groups first, as Futu lists them)."""
    found: list[tuple[str, UserSecurityGroupType]] = []
    if kind in (UserSecurityGroupType.SYSTEM, UserSecurityGroupType.ALL):
        found += [(name, UserSecurityGroupType.SYSTEM) for name in SYSTEM_GROUPS]
    if kind in (UserSecurityGroupType.CUSTOM, UserSecurityGroupType.ALL):
        found += [(name, UserSecurityGroupType.CUSTOM) for name in CUSTOM_GROUPS]
    return found


def _watched_options(today: date) -> list[str]:
    codes = []
    for owner in ("US.AAPL", "HK.00700"):
        option_class = options.OPTION_CLASSES[owner]
        monthly = next(
            e
            for e, c in options.expiries(option_class, today)
            if c is not options.ExpirationCycle.WEEK
        )
        level = option_class.underlying.base_price
        strike = min(options.strikes(option_class), key=lambda k: abs(float(k) - level))
        for is_call in (True, False):
            contract = options.OptionContract(
                option_class, monthly, options.ExpirationCycle.MONTH, is_call, strike
            )
            codes.append(contract.full_code)
    return codes


def members(name: str, today: date) -> list[str] | None:
    """A group's codes (first match by name, custom groups before system ones as OpenD does),
    or None if there is no such group."""
    if name in CUSTOM_GROUPS:
        return list(CUSTOM_GROUPS[name])
    if name not in SYSTEM_GROUPS:
        return None
    if name == "Options":
        return _watched_options(today)
    watched = list(dict.fromkeys(code for codes in CUSTOM_GROUPS.values() for code in codes))
    markets = SYSTEM_GROUPS[name]
    if markets is None:
        return watched + _watched_options(today)
    return [code for code in watched if SECURITIES[code].security.market in markets]


@dataclass(frozen=True, slots=True)
class Reminder:
    """One price reminder."""

    key: int
    code: str
    kind: PriceReminderType
    value: float
    note: str
    freq: PriceReminderFreq
    enabled: bool


def _reminders() -> tuple[Reminder, ...]:
    rows: list[Reminder] = []
    plan = (
        ("HK.00700", PriceReminderType.PRICE_UP, 1.08, "take profit", PriceReminderFreq.ONCE, True),
        (
            "HK.00700",
            PriceReminderType.PRICE_DOWN,
            0.92,
            "add below",
            PriceReminderFreq.ONCE_A_DAY,
            True,
        ),
        (
            "US.AAPL",
            PriceReminderType.PRICE_DOWN,
            0.90,
            "buy the dip",
            PriceReminderFreq.ONCE,
            True,
        ),
        (
            "US.TSLA",
            PriceReminderType.CHANGE_RATE_UP,
            5.0,
            "big move",
            PriceReminderFreq.ONCE_A_DAY,
            True,
        ),
        (
            "US.TSLA",
            PriceReminderType.CHANGE_RATE_DOWN,
            5.0,
            "big drop",
            PriceReminderFreq.ONCE_A_DAY,
            True,
        ),
        (
            "US.NVDA",
            PriceReminderType.PRICE_UP,
            1.15,
            "earnings run",
            PriceReminderFreq.ALWAYS,
            False,
        ),
        ("SH.600519", PriceReminderType.PRICE_DOWN, 0.95, "", PriceReminderFreq.ONCE, True),
        (
            "HK.09988",
            PriceReminderType.VOLUME_UP,
            1.5,
            "volume spike",
            PriceReminderFreq.ONCE_A_DAY,
            True,
        ),
    )
    for n, (code, kind, level, note, freq, enabled) in enumerate(plan, start=1):
        sec = SECURITIES[code]
        if kind in (PriceReminderType.PRICE_UP, PriceReminderType.PRICE_DOWN):
            value = round_to_tick(sec.tick_rule, sec.base_price * level)
        elif kind is PriceReminderType.VOLUME_UP:
            value = float(int(sec.avg_volume * level))
        else:
            value = level
        rows.append(Reminder(1_700_000_000_000 + n, code, kind, value, note, freq, enabled))
    return tuple(rows)


REMINDERS: tuple[Reminder, ...] = _reminders()


def reminders(code: str | None, market: QotMarket | None) -> list[Reminder]:
    """Reminders of one code, or of every code of a market (the code wins when both are given)."""
    if code is not None:
        return [r for r in REMINDERS if r.code == code]
    return [r for r in REMINDERS if SECURITIES[r.code].security.market is market]
