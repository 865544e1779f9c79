"""Parsing of limit values and expiry times as typed on the command line or found in a file."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from keystore.records import ValueLimit, format_amount, parse_expiry

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_value_limit_forms() -> None:
    assert ValueLimit.parse("50000") == ValueLimit(Decimal(50000))
    assert ValueLimit.parse(6000.5) == ValueLimit(Decimal("6000.5"))
    per = ValueLimit.parse("hk=50000, US=6000")
    assert per.for_market("HK") == 50000 and per.for_market("US") == 6000
    assert per.for_market("SG") is None
    assert ValueLimit.parse({"HK": 1, "*": 2}).for_market("JP") == 2
    assert ValueLimit.parse(per.to_json()) == per
    assert str(per) == "HK=50000,US=6000"


@pytest.mark.parametrize(
    "raw", ["0", "-1", "abc", "NaN", "Infinity", "HK=", "HK=1,HK=2", "=5", "HK 5", True, ""]
)
def test_value_limit_refuses(raw: object) -> None:
    with pytest.raises(ValueError):
        ValueLimit.parse(raw, markets=("HK", "US"))


@pytest.mark.parametrize("raw", ["HKG=5", "hk=5,XX=1", {"HKG": 5}, {"": 5}])
def test_unknown_market_is_refused(raw: object) -> None:
    """A cap on a misspelt market would leave the real one unlimited (keys.json, server caps)."""
    with pytest.raises(ValueError, match="unknown market"):
        ValueLimit.parse(raw)


def test_markets_narrow_the_known_ones() -> None:
    assert ValueLimit.parse("JP=5").for_market("JP") == 5
    with pytest.raises(ValueError, match="unknown market 'JP'"):
        ValueLimit.parse("JP=5", markets=("HK",))


def test_expiry_forms() -> None:
    assert parse_expiry("30d", NOW) == NOW + timedelta(days=30)
    assert parse_expiry("12h", NOW) == NOW + timedelta(hours=12)
    assert parse_expiry("2w", NOW) == NOW + timedelta(weeks=2)
    assert parse_expiry("2026-04-01T00:00:00+08:00", NOW) == datetime(2026, 3, 31, 16, tzinfo=UTC)
    assert parse_expiry("2026-04-01T00:00:00Z", NOW) == datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_expiry("2026-04-01", NOW) == datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["0d", "-1d", "30x", "tomorrow", "2026-03-01T00:00:00Z", ""])
def test_expiry_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_expiry(raw, NOW)


def test_amounts_print_plainly() -> None:
    assert format_amount(Decimal("6E+4")) == "60000"
    assert format_amount(Decimal("12.500")) == "12.5"
