"""Security codes (`HK.00700`) and the market numbering OpenD uses for quotes and trading.

The SDK spells a security `MARKET.CODE` and splits at the first dot (`US..DJI` is market US,
code `.DJI`); OpenD wants `{"market": <QotMarket>, "code": "<code>"}`. Orders name the
security's market again as a TrdSecMarket, and accounts are scoped by TrdMarket.
"""

import re
from dataclasses import dataclass
from enum import IntEnum


class QotMarket(IntEnum):
    """Quote market of a security (Qot_Common.QotMarket)."""

    HK = 1
    US = 11
    SH = 21
    SZ = 22
    SG = 31
    JP = 41
    AU = 51


class TrdMarket(IntEnum):
    """Market authority of a trading account (Trd_Common.TrdMarket), named as the SDK's
    `TrdMarket` spells them, so a futures, fund or crypto account is named rather than UNKNOWN."""

    HK = 1
    US = 2
    CN = 3
    HKCC = 4
    FUTURES = 5
    SG = 6
    CRYPTO = 7
    AU = 8
    FUTURES_SIMULATE_HK = 10
    FUTURES_SIMULATE_US = 11
    FUTURES_SIMULATE_SG = 12
    FUTURES_SIMULATE_JP = 13
    JP = 15
    PREDICTION = 17
    MY = 111
    CA = 112
    HKFUND = 113
    USFUND = 123
    SGFUND = 124
    MYFUND = 125
    JPFUND = 126


class TrdSecMarket(IntEnum):
    """Market of the traded security in an order (Trd_Common.TrdSecMarket)."""

    HK = 1
    US = 2
    CN_SH = 31
    CN_SZ = 32
    SG = 41
    JP = 51
    AU = 61


SEC_MARKET_OF: dict[QotMarket, TrdSecMarket] = {
    QotMarket.HK: TrdSecMarket.HK,
    QotMarket.US: TrdSecMarket.US,
    QotMarket.SH: TrdSecMarket.CN_SH,
    QotMarket.SZ: TrdSecMarket.CN_SZ,
    QotMarket.SG: TrdSecMarket.SG,
    QotMarket.JP: TrdSecMarket.JP,
    QotMarket.AU: TrdSecMarket.AU,
}

# The trading market whose accounts can trade a security of this quote market.
TRD_MARKET_OF: dict[QotMarket, TrdMarket] = {
    QotMarket.HK: TrdMarket.HK,
    QotMarket.US: TrdMarket.US,
    QotMarket.SH: TrdMarket.CN,
    QotMarket.SZ: TrdMarket.CN,
    QotMarket.SG: TrdMarket.SG,
    QotMarket.JP: TrdMarket.JP,
    QotMarket.AU: TrdMarket.AU,
}

_CODE_BODY = re.compile(r"[A-Za-z0-9.\-_]{1,24}")


class BadCode(ValueError):
    """A security code that is not `MARKET.CODE` with a known market."""


@dataclass(frozen=True, slots=True, order=True)
class Security:
    """A security as OpenD names it: quote market and the code within it."""

    market: QotMarket
    code: str

    def __str__(self) -> str:
        return f"{self.market.name}.{self.code}"

    def to_wire(self) -> dict[str, object]:
        """The `Qot_Common.Security` JSON object."""
        return {"market": int(self.market), "code": self.code}

    @classmethod
    def from_wire(cls, obj: dict[str, object]) -> "Security":
        """Read a `Qot_Common.Security` JSON object."""
        return cls(QotMarket(int(obj["market"])), str(obj["code"]))  # type: ignore[arg-type]


def parse_code(text: str) -> Security:
    """`"HK.00700"` → Security(HK, "00700"); raise `BadCode` with a reason a user can act on."""
    prefix, dot, code = text.strip().partition(".")
    if not dot or not prefix or not code:
        raise BadCode(f"{text!r} is not MARKET.CODE (e.g. HK.00700, US.AAPL)")
    try:
        market = QotMarket[prefix.upper()]
    except KeyError:
        known = ", ".join(m.name for m in QotMarket)
        raise BadCode(f"unknown market {prefix!r} in {text!r} (known: {known})") from None
    if not _CODE_BODY.fullmatch(code):
        raise BadCode(f"bad code {code!r} in {text!r}")
    if market is QotMarket.US:
        # Futures main contracts keep their lowercase suffix (`US.ESmain`): OpenD matches case.
        main = len(code) > 4 and code[-4:].lower() == "main"
        code = code[:-4].upper() + "main" if main else code.upper()
    return Security(market, code)
