"""What the client reads: ids as strings, numbers without float noise, times with their zone."""

import pytest

from futu_mcp.presentation import instant, present


def test_ids_reach_the_client_as_strings_at_any_depth() -> None:
    out = present(
        {
            "accounts": [{"acc_id": 168880000000000202, "card_num": "x"}],
            "global_state": {"conn_id": 7143839420431376001, "server_ver": 1004},
            "tickers": [{"code": "HK.00700", "sequence": 6835449453025214470}],
        }
    )
    assert out["accounts"][0]["acc_id"] == "168880000000000202"
    assert out["global_state"] == {"conn_id": "7143839420431376001", "server_ver": 1004}
    assert out["tickers"][0]["sequence"] == "6835449453025214470"


def test_history_figures_carry_no_float_noise() -> None:
    """Fees and cash flows are money, margin terms ratios, cash flow ids ids (the history
    toolset's results)."""
    out = present(
        {
            "fees": [
                {
                    "fee_amount": 66.34000000000002,
                    "fee_details": [{"title": "Commission", "value": 14.550000000000001}],
                }
            ],
            "cash_flows": [{"cashflow_id": 7000000000000001010, "cashflow_amount": -48520.1}],
            "margin_ratios": [{"code": "HK.00700", "im_long_ratio": 35.00000000000001}],
            "long_required_im": 16982.000000000004,
        }
    )
    assert out["fees"][0]["fee_amount"] == 66.34
    assert out["fees"][0]["fee_details"][0]["value"] == 14.55
    assert out["cash_flows"][0] == {
        "cashflow_id": "7000000000000001010",
        "cashflow_amount": -48520.1,
    }
    assert out["margin_ratios"][0]["im_long_ratio"] == 35.0
    assert out["long_required_im"] == 16982.0


def test_numbers_carry_no_float_noise() -> None:
    row = present(
        {
            "code": "HK.00700",
            "pl_ratio": -3.9823999999999997,
            "market_val": 93680.00000000001,
            "price": 468.40000000000003,
            "cost_price": 409.12345,
            "qty": 200.0,
            "bid": [{"price": 0.25100000000000006, "volume": 1000}],
        }
    )
    assert row["pl_ratio"] == -3.9824 and row["market_val"] == 93680.0
    assert row["price"] == 468.4  # the tick at 468.4 is 0.2: one place
    assert row["cost_price"] == 409.123  # an average: at least three places
    assert row["qty"] == 200.0
    assert row["bid"][0]["price"] == 0.251  # HK 0.25-0.50 ticks are 0.005: three places
    assert present({"code": "US.SNDL", "price": 0.12345678})["price"] == 0.1235
    assert present({"code": "US.AAPL", "price": 210.58999999999997})["price"] == 210.59


@pytest.mark.parametrize(
    ("code", "text", "zoned"),
    [
        ("HK.00700", "2026-12-07 09:30:00", "2026-12-07T09:30:00+08:00"),
        ("SH.600519", "2026-12-07 09:30:00.250", "2026-12-07T09:30:00.250+08:00"),
        ("US.AAPL", "2026-12-07 09:30:00", "2026-12-07T09:30:00-05:00"),
        ("US.AAPL", "2026-07-01 09:30:00", "2026-07-01T09:30:00-04:00"),  # daylight saving
        ("US.AAPL", "2026-07-01", "2026-07-01"),  # a date alone has no zone to say
        ("US.AAPL", "not a time at all!!", "not a time at all!!"),
    ],
)
def test_times_say_their_market_zone(code: str, text: str, zoned: str) -> None:
    assert present({"code": code, "create_time": text})["create_time"] == zoned
    assert present({"code": code, "rows": [{"time": text}]})["rows"][0]["time"] == zoned


def test_instant_orders_times_of_different_markets() -> None:
    hk = instant("2026-12-07 21:00:00", "HK.00700")  # 13:00 UTC
    us = instant("2026-12-07 09:00:00", "US.AAPL")  # 14:00 UTC
    assert hk < us and us - hk == 3600
    assert instant(None, "US.AAPL") == 0.0 and instant("2026-12-07 09:00:00", None) == 0.0


def test_a_price_keeps_every_place_its_market_can_quote() -> None:
    """A-share ETFs step in 0.001: their prices keep three places, stocks' two show as two."""
    assert present({"code": "SH.510300", "price": 3.9870000000000001})["price"] == 3.987
    assert present({"code": "SH.600519", "last_price": 1421.5500000000002})["last_price"] == 1421.55
    assert present({"code": "HK.00005", "price": 62.150000000000006})["price"] == 62.15
