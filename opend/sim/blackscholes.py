"""Black-Scholes-Merton prices and greeks over a volatility smile, for the simulated options.

One formula prices every option and warrant the simulator lists, so a quote, a chain row and a
snapshot's greeks always agree. Units follow what OpenD prints: vega per volatility point (1%),
theta per calendar day, rho per rate point (1%), implied volatility in percent.
"""

import math
from dataclasses import dataclass

YEAR_SECONDS = 365.0 * 86_400.0
MIN_YEARS = 60.0 / YEAR_SECONDS  # one minute: keeps the formulas finite at expiry


@dataclass(frozen=True, slots=True)
class Greeks:
    """An option's theoretical price and its sensitivities."""

    price: float
    delta: float
    gamma: float
    vega: float  # per 1 point of volatility
    theta: float  # per calendar day
    rho: float  # per 1 point of the interest rate


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black_scholes(
    is_call: bool,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    dividend: float,
    vol: float,
) -> Greeks:
    """European price and greeks (continuous dividend yield `dividend`); `years` is floored at a
    minute so an option on its expiry day still has a finite gamma."""
    if spot <= 0 or strike <= 0 or vol <= 0:
        raise ValueError("spot, strike and volatility must be positive")
    t = max(years, MIN_YEARS)
    root = math.sqrt(t)
    d1 = (math.log(spot / strike) + (rate - dividend + 0.5 * vol * vol) * t) / (vol * root)
    d2 = d1 - vol * root
    carry = math.exp(-dividend * t)
    discount = math.exp(-rate * t)
    gamma = carry * _pdf(d1) / (spot * vol * root)
    vega = spot * carry * _pdf(d1) * root
    common_theta = -spot * carry * _pdf(d1) * vol / (2.0 * root)
    if is_call:
        price = spot * carry * _cdf(d1) - strike * discount * _cdf(d2)
        delta = carry * _cdf(d1)
        theta = (
            common_theta + dividend * spot * carry * _cdf(d1) - rate * strike * discount * _cdf(d2)
        )
        rho = strike * t * discount * _cdf(d2)
    else:
        price = strike * discount * _cdf(-d2) - spot * carry * _cdf(-d1)
        delta = -carry * _cdf(-d1)
        theta = (
            common_theta
            - dividend * spot * carry * _cdf(-d1)
            + rate * strike * discount * _cdf(-d2)
        )
        rho = -strike * t * discount * _cdf(-d2)
    return Greeks(
        price=max(price, 0.0),
        delta=delta,
        gamma=gamma,
        vega=vega / 100.0,
        theta=theta / 365.0,
        rho=rho / 100.0,
    )


def smile_vol(atm_vol: float, spot: float, strike: float, years: float) -> float:
    """Implied volatility at `strike`: a skew (puts dearer) and a smile in standardised
    log-moneyness, steeper for near expiries as listed equity options show; kept within
    [0.5, 3] times the at-the-money level."""
    k = math.log(strike / spot) / math.sqrt(max(years, 7.0 / 365.0))
    factor = 1.0 - 0.12 * k + 0.05 * k * k
    return atm_vol * min(3.0, max(0.5, factor))


def implied_vol(
    is_call: bool,
    price: float,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    dividend: float,
) -> float:
    """The volatility that reprices `price` (bisection; warrants quote it from their price)."""
    lo, hi = 0.01, 5.0
    if black_scholes(is_call, spot, strike, years, rate, dividend, lo).price >= price:
        return lo
    if black_scholes(is_call, spot, strike, years, rate, dividend, hi).price <= price:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if black_scholes(is_call, spot, strike, years, rate, dividend, mid).price < price:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
