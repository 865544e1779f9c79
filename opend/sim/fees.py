"""What a filled order costs in fees on a real account, by each market's published schedule.

The fee of an order is its market's schedule applied to its filled quantity and value so far;
each fill is charged the increase, so an order's fees are the schedule of its whole fill however
it was split, and the cash flow shows each fill's share. Paper accounts pay no fees.

Schedules (Futu HK price lists, the Futu "fixed" plans; exchange items at their current official
rates):
- HK stocks: commission 0.03 %, min HK$3; platform fee HK$15 per order (futuhk.com/en/
  commissionnew, support topic335); stamp duty 0.1 % of the value, rounded up to a whole dollar,
  none on ETFs (cut from 0.13 % on 2023-11-17); HKEX trading fee 0.00565 %, min HK$0.01; SFC
  levy 0.0027 %, min HK$0.01; AFRC levy 0.00015 %; HKSCC settlement fee 0.0042 % (HKEX's rate
  from 2025-06-30, no minimum or maximum; hkex.com.hk news of 2025-02-21).
- US stocks: commission US$0.0049 a share, min US$0.99; platform fee US$0.005 a share, min US$1;
  each at most 0.5 % of the value (futuhk.com support topic2_283); settlement fee US$0.003 a
  share (futuau.com topic351); on sells the SEC fee at US$0.00 per million (the rate in force
  since 2025-05-14; the fiscal 2026 rate is not in our sources) and the FINRA trading activity
  fee US$0.000166 a share, max US$8.30 (2024 schedule).
- A shares via Stock Connect: commission 0.03 %, min CNH 3; platform fee CNH 15 per order
  (futuhk.com topic334); handling fee 0.00341 %, securities management fee 0.002 %, transfer
  fee 0.001 % (ChinaClear) + 0.002 % (HKSCC), each side; stamp duty 0.05 % on sells only
  (swhyhk.com, cfsg.com.hk).
"""

import math
from dataclasses import dataclass

from opend.codes import QotMarket
from opend.enums import SecurityType, TrdSide


@dataclass(frozen=True, slots=True)
class Fee:
    """One fee item as OpenD's Trd_GetOrderFee names it."""

    title: str
    value: float


# US$ per million dollars sold: $0.00 since 2025-05-14 (securitytraders.org); the fiscal 2026
# order (Release 34-104909) is not in our sources.
SEC_FEE_PER_MILLION = 0.0


def _cents(value: float) -> float:
    return round(value + 1e-9, 2)


def _at_least(value: float, low: float) -> float:
    return _cents(max(value, low))


def _hk(side: TrdSide, qty: int, value: float, sec_type: SecurityType) -> list[Fee]:
    stamp = 0.0 if sec_type is SecurityType.ETF else float(math.ceil(value * 0.001 - 1e-9))
    return [
        Fee("Commission", _at_least(value * 0.0003, 3.0)),
        Fee("Platform Fees", 15.0),
        Fee("Stamp Duty", stamp),
        Fee("Trading Fee", _at_least(value * 0.0000565, 0.01)),
        Fee("SFC Transaction Levy", _at_least(value * 0.000027, 0.01)),
        Fee("AFRC Transaction Levy", _cents(value * 0.0000015)),
        Fee("Settlement Fee", _cents(value * 0.000042)),
    ]


def _us(side: TrdSide, qty: int, value: float, sec_type: SecurityType) -> list[Fee]:
    cap = value * 0.005
    fees = [
        Fee("Commission", _cents(max(min(qty * 0.0049, cap), 0.99))),
        Fee("Platform Fees", _cents(max(min(qty * 0.005, cap), 1.0))),
        Fee("Settlement Fee", _cents(qty * 0.003)),
    ]
    if side is TrdSide.SELL:
        fees += [
            Fee("SEC Fee", _cents(value * SEC_FEE_PER_MILLION / 1_000_000)),
            Fee("Trading Activity Fee", _at_least(min(qty * 0.000166, 8.30), 0.01)),
        ]
    return fees


def _cn(side: TrdSide, qty: int, value: float, sec_type: SecurityType) -> list[Fee]:
    fees = [
        Fee("Commission", _at_least(value * 0.0003, 3.0)),
        Fee("Platform Fees", 15.0),
        Fee("Handling Fee", _cents(value * 0.0000341)),
        Fee("Securities Management Fee", _cents(value * 0.00002)),
        Fee("Transfer Fee", _cents(value * 0.00003)),
    ]
    if side is TrdSide.SELL:
        fees.append(Fee("Stamp Duty", _cents(value * 0.0005)))
    return fees


_SCHEDULES = {QotMarket.HK: _hk, QotMarket.US: _us, QotMarket.SH: _cn, QotMarket.SZ: _cn}


def order_fees(
    market: QotMarket, sec_type: SecurityType, side: TrdSide, qty: int, value: float
) -> list[Fee]:
    """The fees of an order that filled `qty` shares worth `value` (none before a fill)."""
    if qty <= 0:
        return []
    return _SCHEDULES[market](side, qty, value, sec_type)


def total(fees: list[Fee]) -> float:
    """The sum of fee items, to the cent."""
    return _cents(sum(f.value for f in fees))
