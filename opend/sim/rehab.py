"""Corporate actions of the universe (real history) and their price-adjustment factors.

Sources (see `reference/opend-protocol-more.md` §5.2): US.AAPL quarterly dividends and the
2020 4-for-1 split — finspry.com and strike.market; US.TSLA 5-for-1 (2020) and 3-for-1 (2022)
splits — Tesla IR via probitget.com/nlviwq.cn; HK.00700 final dividends FY2022 HK$2.40 and
FY2023 HK$3.40 — marketscreener.com, laohu8.com; HK.00005 FY2024 fourth interim US$0.36 paid as
HK$2.791007 — SEC 6-K filings. Only events whose date and amount are both confirmed are listed;
the reference marks the rest UNVERIFIED.

Factors follow OpenD's convention, adjusted price = raw x A + B, one row per event (not
cumulative): a split of 1 into n has forward A = 1/n and backward A = n; a cash dividend D has
forward B = -D and backward B = +D (A = 1). The split ratio is encoded as splitBase=1,
splitErt=n, which the official SDK reports as split_ratio 1/n.
"""

from dataclasses import dataclass
from datetime import date


class CompanyAct:
    """Qot_Common.CompanyAct bits."""

    SPLIT = 1
    DIVIDEND = 64


@dataclass(frozen=True, slots=True)
class Rehab:
    """One corporate action and its adjustment factors."""

    day: date
    flags: int
    fwd_a: float
    fwd_b: float
    bwd_a: float
    bwd_b: float
    split_base: int = 0
    split_ert: int = 0
    dividend: float = 0.0


def _dividend(day: str, amount: float) -> Rehab:
    return Rehab(
        date.fromisoformat(day), CompanyAct.DIVIDEND, 1.0, -amount, 1.0, amount, dividend=amount
    )


def _split(day: str, into: int) -> Rehab:
    return Rehab(
        date.fromisoformat(day), CompanyAct.SPLIT, 1.0 / into, 0.0, float(into), 0.0, 1, into
    )


# Ex-dates (first split-adjusted trading day for splits) and per-share amounts.
_AAPL = (
    [_dividend(d, a) for d, a in (("2020-02-07", 0.77), ("2020-05-08", 0.82), ("2020-08-07", 0.82))]
    + [_split("2020-08-31", 4)]
    + [
        _dividend(d, a)
        for d, a in (
            ("2020-11-06", 0.205),
            ("2021-02-05", 0.205),
            ("2021-05-07", 0.22),
            ("2021-08-06", 0.22),
            ("2021-11-05", 0.22),
            ("2022-02-04", 0.22),
            ("2022-05-06", 0.23),
            ("2022-08-05", 0.23),
            ("2022-11-04", 0.23),
            ("2023-02-10", 0.23),
            ("2023-05-12", 0.24),
            ("2023-08-11", 0.24),
            ("2023-11-10", 0.24),
            ("2024-02-09", 0.24),
            ("2024-05-10", 0.25),
            ("2024-08-12", 0.25),
            ("2024-11-08", 0.25),
            ("2025-02-10", 0.25),
            ("2025-05-12", 0.26),
            ("2025-08-11", 0.26),
            ("2025-11-10", 0.26),
            ("2026-02-09", 0.26),
        )
    ]
)

EVENTS: dict[str, tuple[Rehab, ...]] = {
    "US.AAPL": tuple(_AAPL),
    "US.TSLA": (_split("2020-08-31", 5), _split("2022-08-25", 3)),
    "HK.00700": (_dividend("2023-05-19", 2.40), _dividend("2024-05-17", 3.40)),
    "HK.00005": (_dividend("2025-03-06", 2.791007),),
}


def events(code: str, today: date) -> list[Rehab]:
    """The security's corporate actions up to `today`, oldest first (none for most codes)."""
    return [e for e in EVENTS.get(code, ()) if e.day <= today]
