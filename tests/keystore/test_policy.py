"""authorize(): every check, its exact text, the documented order, caps, and what is never limited."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keystore.errors import KeystoreError
from keystore.ledger import SqliteLedger
from keystore.policy import Request, ServerCaps, authorize
from keystore.records import HoursWindow, KeyRecord, Limits, ValueLimit

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Hong Kong


def make_key(**limits: object) -> KeyRecord:
    return KeyRecord(
        id="bot",
        kid="AAAAAAAA",
        hash="sha256:" + "0" * 64,
        scopes=frozenset({"qot:read", "trade:simulate"}),
        limits=Limits(**limits),  # type: ignore[arg-type]
        confirm_orders="never",
        created_at=NOW - timedelta(days=1),
    )


def order(**fields: object) -> Request:
    base: dict[str, object] = {
        "scope": "trade:simulate",
        "kind": "place",
        "market": "HK",
        "code": "HK.00700",
        "trd_side": "BUY",
        "acc_id": 1001,
        "value": Decimal(1000),
        "currency": "HKD",
    }
    base.update(fields)
    return Request(**base)  # type: ignore[arg-type]


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "ledger.sqlite")


def test_order_of_checks_first_failure_wins(ledger: SqliteLedger) -> None:
    """Start with a key and request that fail every check; fix them one by one, in order."""
    inside = NOW.replace(hour=14)  # inside the 13:30-20:00 UTC window; NOW is outside
    limits = Limits(
        allowed_markets=frozenset({"US"}),
        allowed_symbols=frozenset({"US.AAPL"}),
        allowed_trd_sides=frozenset({"SELL"}),
        allowed_acc_ids=frozenset({2002}),
        hours_window=HoursWindow.parse("13:30-20:00"),
        max_order_value=ValueLimit(Decimal(500)),
        max_orders_per_minute=1,
        max_daily_value=ValueLimit(Decimal(800)),
    )
    good_key = replace(make_key(), limits=limits)
    good = order(market="US", code="US.AAPL", trd_side="SELL", acc_id=2002, currency="USD")
    # An earlier order fills the one-per-minute window and puts 400 on today's total.
    prior = authorize(good_key, replace(good, value=Decimal(400)), ledger=ledger, now=inside)
    assert prior.allowed
    state = {
        "key": replace(
            good_key,
            revoked_at=NOW - timedelta(hours=1),
            expires_at=NOW - timedelta(minutes=1),
            scopes=frozenset({"qot:read"}),
        ),
        "request": order(value=Decimal(1000)),
        "now": NOW,
    }
    steps = [
        ("revoked", "key revoked", "key", {"revoked_at": None}),
        ("expired", "key expired", "key", {"expires_at": None}),
        ("scope", "missing scope: trade:simulate", "key", {"scopes": good_key.scopes}),
        ("market", "market not allowed: HK", "request", {"market": "US", "currency": "USD"}),
        ("symbol", "symbol not allowed: HK.00700", "request", {"code": "US.AAPL"}),
        ("side", "side not allowed: BUY", "request", {"trd_side": "SELL"}),
        ("account", "account not allowed: 1001", "request", {"acc_id": 2002}),
        (
            "hours",
            "outside trading hours window 13:30-20:00",
            "now",
            inside + timedelta(seconds=30),
        ),
        (
            "order_value",
            "limit check failed: order value 1000 exceeds 500",
            "request",
            {"value": Decimal(450)},
        ),
        (
            "rate",
            "limit check failed: rate limit 1/min; retry in 30 s",
            "now",
            inside + timedelta(seconds=61),
        ),
        (
            "daily_value",
            "limit check failed: daily value 850 exceeds 800",
            "request",
            {"value": Decimal(400)},
        ),
    ]
    for reason, message, what, fix in steps:
        decision = authorize(state["key"], state["request"], ledger=ledger, now=state["now"])  # type: ignore[arg-type]
        assert (decision.allowed, decision.reason, decision.message) == (False, reason, message)
        state[what] = replace(state[what], **fix) if isinstance(fix, dict) else fix  # type: ignore[type-var]
    decision = authorize(state["key"], state["request"], ledger=ledger, now=state["now"])  # type: ignore[arg-type]
    assert decision.allowed
    assert decision.reservation is not None


def test_daily_value_text_and_total(ledger: SqliteLedger) -> None:
    key = make_key(max_daily_value=ValueLimit(Decimal(2500)))
    assert authorize(key, order(value=Decimal(1000)), ledger=ledger, now=NOW).allowed
    assert authorize(key, order(value=Decimal(1000)), ledger=ledger, now=NOW).allowed
    decision = authorize(key, order(value=Decimal("600.5")), ledger=ledger, now=NOW)
    assert (decision.reason, decision.message) == (
        "daily_value",
        "limit check failed: daily value 2600.5 exceeds 2500",
    )
    assert authorize(key, order(value=Decimal(500)), ledger=ledger, now=NOW).allowed
    # Next UTC day starts from zero.
    assert authorize(
        key, order(value=Decimal(2500)), ledger=ledger, now=NOW + timedelta(days=1)
    ).allowed


def test_daily_value_is_per_market(ledger: SqliteLedger) -> None:
    key = make_key(max_daily_value=ValueLimit.parse("HK=2000,US=300"))
    assert authorize(key, order(value=Decimal(2000)), ledger=ledger, now=NOW).allowed
    us = order(market="US", code="US.AAPL", currency="USD", value=Decimal(300))
    assert authorize(key, us, ledger=ledger, now=NOW).allowed
    assert not authorize(key, order(value=Decimal(1)), ledger=ledger, now=NOW).allowed
    assert not authorize(key, replace(us, value=Decimal(1)), ledger=ledger, now=NOW).allowed


def test_order_value_plain_and_per_market() -> None:
    plain = make_key(max_order_value=ValueLimit(Decimal(50000)))
    assert authorize(plain, order(value=Decimal(50000)), now=NOW).allowed
    assert authorize(plain, order(value=Decimal("50000.01")), now=NOW).reason == "order_value"
    us = order(market="US", code="US.AAPL", currency="USD", value=Decimal(6001))
    per_market = make_key(max_order_value=ValueLimit.parse("HK=50000,US=6000"))
    assert authorize(per_market, order(value=Decimal(50000)), now=NOW).allowed
    decision = authorize(per_market, us, now=NOW)
    assert decision.message == "limit check failed: order value 6001 exceeds 6000"
    # A market the per-market limit does not name is not limited by it ...
    sh = order(market="SH", code="SH.600519", currency="CNH", value=Decimal(10**9))
    assert authorize(per_market, sh, now=NOW).allowed
    # ... unless a default is given with *=N.
    with_default = make_key(max_order_value=ValueLimit.parse("HK=50000,*=100"))
    assert authorize(with_default, sh, now=NOW).reason == "order_value"


def test_unknown_value_fails_closed_when_capped() -> None:
    key = make_key(max_order_value=ValueLimit(Decimal(100)))
    decision = authorize(key, order(value=None), now=NOW)
    assert not decision.allowed
    assert decision.reason == "order_value"


@pytest.mark.parametrize("caps", [None, ServerCaps(max_daily_value=ValueLimit(Decimal(100)))])
def test_unknown_value_fails_closed_under_a_daily_cap_alone(
    ledger: SqliteLedger, caps: ServerCaps | None
) -> None:
    """With only a daily cap (key or server), an order of unknown value must not count as 0."""
    key = make_key() if caps else make_key(max_daily_value=ValueLimit(Decimal(100)))
    decision = authorize(key, order(value=None), ledger=ledger, caps=caps, now=NOW)
    assert not decision.allowed
    assert decision.reason == "daily_value"
    assert decision.message == "limit check failed: order value unknown, daily limit 100"
    assert ledger.daily_total("bot", "HK", "HKD", now=NOW) == 0


def test_server_cap_stricter_wins() -> None:
    key = make_key(max_order_value=ValueLimit(Decimal(50000)))
    caps = ServerCaps(max_order_value=ValueLimit(Decimal(10000)))
    decision = authorize(key, order(value=Decimal(20000)), caps=caps, now=NOW)
    assert decision.message == "limit check failed: order value 20000 exceeds 10000"
    loose = ServerCaps(max_order_value=ValueLimit(Decimal(10**6)))
    decision = authorize(key, order(value=Decimal(60000)), caps=loose, now=NOW)
    assert decision.message == "limit check failed: order value 60000 exceeds 50000"
    unlimited_key = make_key()
    assert (
        authorize(unlimited_key, order(value=Decimal(20000)), caps=caps, now=NOW).reason
        == "order_value"
    )


def test_server_rate_cap_applies_to_unlimited_key(ledger: SqliteLedger) -> None:
    key = make_key()
    caps = ServerCaps(max_orders_per_minute=2)
    results = [authorize(key, order(), ledger=ledger, caps=caps, now=NOW).allowed for _ in range(3)]
    assert results == [True, True, False]


def test_hours_window_across_midnight() -> None:
    window = HoursWindow.parse("22:00-04:00@Asia/Hong_Kong")
    hk = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 07:30 HKT
    assert not window.contains(hk)
    assert window.contains(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 HKT
    assert window.contains(datetime(2026, 3, 2, 19, 59, tzinfo=UTC))  # 03:59 HKT
    assert not window.contains(datetime(2026, 3, 2, 20, 0, tzinfo=UTC))  # 04:00 HKT, end excluded
    assert window.contains(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 22:00 HKT, start included
    key = make_key(hours_window=window)
    decision = authorize(key, order(), now=hk)
    assert decision.message == "outside trading hours window 22:00-04:00@Asia/Hong_Kong"
    plain = HoursWindow.parse("9:30-16:00")
    assert str(plain) == "09:30-16:00"
    assert plain.start == time(9, 30)


@pytest.mark.parametrize(
    "bad", ["", "9-16", "09:30-09:30", "24:00-01:00", "09:60-10:00", "09:00-10:00@Mars/Base"]
)
def test_bad_hours_windows(bad: str) -> None:
    with pytest.raises(ValueError):
        HoursWindow.parse(bad)


def test_cancel_is_never_limited_but_needs_scope(ledger: SqliteLedger) -> None:
    key = make_key(
        max_order_value=ValueLimit(Decimal(1)),
        max_orders_per_minute=1,
        max_daily_value=ValueLimit(Decimal(1)),
        hours_window=HoursWindow.parse("00:00-00:01"),
    )
    cancel = order(kind="cancel", value=None)
    for _ in range(5):
        assert authorize(key, cancel, ledger=ledger, now=NOW).allowed
    no_scope = replace(key, scopes=frozenset({"qot:read"}))
    assert (
        authorize(no_scope, cancel, ledger=ledger, now=NOW).message
        == "missing scope: trade:simulate"
    )


def test_cancel_ignores_market_symbol_and_side_but_not_the_account() -> None:
    key = make_key(
        allowed_markets=frozenset({"US"}),
        allowed_symbols=frozenset({"US.AAPL"}),
        allowed_trd_sides=frozenset({"SELL"}),
        allowed_acc_ids=frozenset({1001}),
    )
    cancel = order(kind="cancel", value=None)
    assert authorize(key, cancel, now=NOW).allowed
    assert (
        authorize(key, replace(cancel, kind="place"), now=NOW).message == "market not allowed: HK"
    )
    assert (
        authorize(key, replace(cancel, acc_id=2002), now=NOW).message == "account not allowed: 2002"
    )
    revoked = replace(key, revoked_at=NOW - timedelta(minutes=1))
    assert authorize(revoked, cancel, now=NOW).message == "key revoked"


def test_reads_are_not_limited_by_hours_or_ledger() -> None:
    key = make_key(hours_window=HoursWindow.parse("00:00-00:01"), max_orders_per_minute=1)
    quote = Request(scope="qot:read", market="HK", code="HK.00700")
    assert authorize(key, quote, now=NOW).allowed
    assert authorize(key, replace(quote, market="US", code="US.AAPL"), now=NOW).allowed


def test_symbol_without_market_prefix() -> None:
    key = make_key(allowed_symbols=frozenset({"00700"}))
    assert authorize(key, order(), now=NOW).allowed
    assert authorize(key, order(code="HK.09988"), now=NOW).message == "symbol not allowed: HK.09988"


def test_an_underlying_does_not_allow_its_derivatives() -> None:
    """The README's rule: allowed_symbols names the very contracts a key may trade. US.AAPL
    (or AAPL) does not allow AAPL's options, HK.00700 not Tencent's warrants, HK.HSI2612 not
    the main contract HK.HSImain; an option's own code does."""
    call = "US.AAPL261218C210000"
    underlying = make_key(allowed_symbols=frozenset({"US.AAPL", "AAPL", "HK.00700", "HK.HSI2612"}))
    for code in (call, "US.AAPL261218P210000", "HK.60803", "HK.TCH261230C500000", "HK.HSIMAIN"):
        denial = authorize(underlying, order(code=code), now=NOW)
        assert denial.message == f"symbol not allowed: {code}", code
    own = make_key(allowed_symbols=frozenset({call, "HK.HSIMAIN"}))
    assert authorize(own, order(code=call), now=NOW).allowed
    assert authorize(own, order(code="HK.HSImain"), now=NOW).allowed  # codes match in any case
    assert authorize(own, order(code="US.AAPL"), now=NOW).message == "symbol not allowed: US.AAPL"


def test_limited_place_without_ledger_is_refused() -> None:
    key = make_key(max_orders_per_minute=3)
    with pytest.raises(KeystoreError, match="ledger"):
        authorize(key, order(), now=NOW)
    assert authorize(make_key(), order(), now=NOW).allowed


def test_dry_run_reserves_nothing(ledger: SqliteLedger) -> None:
    key = make_key(max_orders_per_minute=1)
    for _ in range(3):
        decision = authorize(key, order(), ledger=ledger, now=NOW, reserve=False)
        assert decision.allowed
        assert decision.reservation is None
    assert authorize(key, order(), ledger=ledger, now=NOW).reservation is not None
    assert authorize(key, order(), ledger=ledger, now=NOW, reserve=False).reason == "rate"


def test_modify_rechecks_value_and_counts_the_increase(ledger: SqliteLedger) -> None:
    key = make_key(
        max_order_value=ValueLimit(Decimal(1000)), max_daily_value=ValueLimit(Decimal(1500))
    )
    assert authorize(key, order(value=Decimal(1000)), ledger=ledger, now=NOW).allowed
    too_big = order(kind="modify", value=Decimal(1200), daily_increase=Decimal(200))
    assert authorize(key, too_big, ledger=ledger, now=NOW).reason == "order_value"
    grow = order(kind="modify", value=Decimal(1000), daily_increase=Decimal(400))
    assert authorize(key, grow, ledger=ledger, now=NOW).allowed
    assert ledger.daily_total("bot", "HK", "HKD", NOW) == Decimal(1400)
    again = order(kind="modify", value=Decimal(1000), daily_increase=Decimal(200))
    decision = authorize(key, again, ledger=ledger, now=NOW)
    assert decision.message == "limit check failed: daily value 1600 exceeds 1500"
    shrink = order(kind="modify", value=Decimal(500), daily_increase=Decimal(0))
    assert authorize(key, shrink, ledger=ledger, now=NOW).allowed


def test_release_gives_back_value_and_rate_slot(ledger: SqliteLedger) -> None:
    key = make_key(max_orders_per_minute=1, max_daily_value=ValueLimit(Decimal(1000)))
    first = authorize(key, order(value=Decimal(1000)), ledger=ledger, now=NOW)
    assert first.reservation is not None
    assert authorize(key, order(value=Decimal(1)), ledger=ledger, now=NOW).reason == "rate"
    ledger.release(first.reservation)
    ledger.release(first.reservation)  # idempotent
    assert ledger.daily_total("bot", "HK", "HKD", NOW) == 0
    assert authorize(key, order(value=Decimal(1000)), ledger=ledger, now=NOW).allowed
