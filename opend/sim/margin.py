"""Margin terms of the simulated securities: which may be bought on margin, at which ratios.

Real HK and US accounts are margin accounts (Trd_GetAccList accType MARGIN); paper and A-share
(Stock Connect) accounts are cash accounts. A broker sets each stock's initial margin from its
risk; the simulator derives it from the stock's volatility the same way for every run: 25 % for
a calm large cap up to 100 % (not marginable) for the most volatile, with the warning, margin
call and maintenance ratios below it in the order brokers use (Trd_GetMarginRatio: alert >
margin call > maintenance). A-shares through Stock Connect cannot be bought on margin.
"""

import math
from dataclasses import dataclass

from opend.codes import QotMarket
from opend.enums import SecurityType
from opend.sim.universe import SimSecurity

MARGIN_MARKETS = frozenset({QotMarket.HK, QotMarket.US})


@dataclass(frozen=True, slots=True)
class MarginTerms:
    """A security's margin ratios as fractions of its value (1.0 = no loan)."""

    long_permit: bool
    initial: float
    alert: float
    margin_call: float
    maintenance: float


def terms(sec: SimSecurity) -> MarginTerms:
    """The margin terms of a security (not marginable outside HK and US)."""
    if sec.security.market not in MARGIN_MARKETS:
        return MarginTerms(False, 1.0, 1.0, 1.0, 1.0)
    floor = 20 if sec.sec_type is SecurityType.ETF else 25
    percent = min(100, max(floor, 5 * math.ceil(sec.daily_vol * 1250 / 5)))
    initial = percent / 100
    return MarginTerms(
        long_permit=percent < 100,
        initial=initial,
        alert=round(initial * 0.9, 4),
        margin_call=round(initial * 0.8, 4),
        maintenance=round(initial * 0.7, 4),
    )
