"""The IPO calendar: companies in subscription or waiting to list in the next weeks.

Real future listings are unknown, so the simulator invents plausible ones, a few a week per
market, from its seed and the week: names built from common words of each market's new
listings, offer price ranges, lot sizes and issue sizes in the usual bands. HK's entrance fee is
one lot at the top of the range plus 1% brokerage, 0.0027% SFC levy, 0.00565% trading fee and
0.00015% AFRC levy (reference §3), rounded up to the cent.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from opend.codes import QotMarket
from opend.sim.market import noise
from opend.sim.universe import SECURITIES

_PLACES = ("Shenzhen", "Hangzhou", "Suzhou", "Chengdu", "Wuhan", "Hefei", "Xiamen", "Qingdao")
_TRADES = (
    "Robotics",
    "Biotech",
    "Semiconductor",
    "New Energy",
    "Medical Devices",
    "Smart Logistics",
    "Cloud Software",
    "Battery Materials",
)
_US_WORDS = ("Aurora", "Summit", "Harbor", "Vertex", "Cobalt", "Northwind", "Beacon", "Silverline")
_US_TRADES = (
    "Therapeutics",
    "Quantum",
    "Payments",
    "Energy",
    "Analytics",
    "Bio",
    "Robotics",
    "Labs",
)
_HK_FEES = 0.01 + 0.000027 + 0.0000565 + 0.0000015


@dataclass(frozen=True, slots=True)
class Ipo:
    """One IPO."""

    market: QotMarket
    code: str
    name: str
    list_date: date
    apply_start: date
    apply_end: date
    price_min: float
    price_max: float
    lot_size: int
    issue_size: int
    industry_pe: float
    issue_pe: float
    winning_ratio: float  # percent, A-shares

    @property
    def entrance_fee(self) -> float:
        """HK: what one lot costs to apply for, with fees."""
        return math.ceil(self.lot_size * self.price_max * (1 + _HK_FEES) * 100) / 100


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _one(seed: int, market: QotMarket, week: int, k: int) -> Ipo:
    def r(name: str) -> float:
        return noise(seed, "ipo", market, week, k, name)

    monday = date(2018, 1, 1) + timedelta(weeks=week)
    list_date = _weekday(monday + timedelta(days=int(r("day") * 5)))
    apply_end = list_date - timedelta(days=5 if market is QotMarket.HK else 3)
    while apply_end.weekday() >= 5:
        apply_end -= timedelta(days=1)
    apply_start = apply_end - timedelta(days=4)
    n = week * 7 + k
    if market is QotMarket.US:
        letters = "".join(chr(65 + int(r(f"l{i}") * 26)) for i in range(4))
        name = f"{_US_WORDS[int(r('a') * 8)]} {_US_TRADES[int(r('b') * 8)]} Inc."
        code, low = letters, 8.0 + 18.0 * r("p")
        lot = 1
    elif market is QotMarket.HK:
        code = f"{2000 + n % 7000:05d}"
        name = f"{_PLACES[int(r('a') * 8)]} {_TRADES[int(r('b') * 8)]}"
        low, lot = 5.0 + 40.0 * r("p"), (100, 200, 500, 1000)[int(r("lot") * 4)]
    else:
        code = f"{(688000 if market is QotMarket.SH else 301000) + n % 1000}"
        name = f"{_PLACES[int(r('a') * 8)]} {_TRADES[int(r('b') * 8)]} Co."
        low, lot = 10.0 + 40.0 * r("p"), 500
    high = round(low * (1.0 + 0.15 * r("range")), 2)
    low = round(low, 2)
    if market in (QotMarket.SH, QotMarket.SZ):
        high = low  # A-share offers have one price
    issue = int(20_000_000 + 180_000_000 * r("size"))
    industry_pe = 15.0 + 30.0 * r("ind")
    return Ipo(
        market=market,
        code=code,
        name=name,
        list_date=list_date,
        apply_start=apply_start,
        apply_end=apply_end,
        price_min=low,
        price_max=high,
        lot_size=lot,
        issue_size=issue,
        industry_pe=round(industry_pe, 2),
        issue_pe=round(industry_pe * (0.6 + 0.5 * r("pe")), 2),
        winning_ratio=round(0.02 + 0.08 * r("win"), 4),
    )


def calendar(seed: int, market: QotMarket, today: date) -> list[Ipo]:
    """IPOs of a market (A-shares: SH and SZ together) whose listing day is today or within
    the next four weeks, soonest first; none collides with a listed code."""
    markets = (QotMarket.SH, QotMarket.SZ) if market in (QotMarket.SH, QotMarket.SZ) else (market,)
    week = (today - date(2018, 1, 1)).days // 7
    found: list[Ipo] = []
    for m in markets:
        for w in range(week, week + 5):
            count = 1 + int(noise(seed, "ipo-count", m, w) * 3)
            for k in range(count):
                ipo = _one(seed, m, w, k)
                if today <= ipo.list_date <= today + timedelta(days=28) and (
                    f"{m.name}.{ipo.code}" not in SECURITIES
                ):
                    found.append(ipo)
    return sorted(found, key=lambda i: (i.list_date, i.code))
