"""The official SDK and our client read the simulator's derivatives, research and watchlist
replies alike (the companion of test_agreement, for issue 14's protocols)."""

import asyncio
from datetime import date
from types import ModuleType
from typing import Any

from opend.client import OpenDClient
from opend.codes import QotMarket, parse_code
from opend.sim import SimulatorThread
from tests.opend.sim.test_agreement import _agree, _rows

START = 1_796_644_800.0  # 2026-12-07 12:00 UTC, a Monday
HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
OPTION = "US.AAPL261218C200000"


def _client_reads(port: int) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with OpenDClient("127.0.0.1", port, client_id="agreement") as client:
            assert await client.wait_connected(10)
            day = date(2026, 12, 18)
            return {
                "snapshot": await client.get_market_snapshot(
                    [parse_code(OPTION), parse_code("HK.HSImain")]
                ),
                "expiries": await client.get_option_expiration_date(US),
                "chain": await client.get_option_chain(US, day, day),
                "warrants": await client.get_warrant(HK, sort_field=1),
                "futures": await client.get_future_info([parse_code("HK.HSImain")]),
                "reference": await client.get_referencestock_list(HK, 1),
                "flow": await client.get_capital_flow(HK),
                "distribution": await client.get_capital_distribution(HK),
                "plates": await client.get_owner_plate([HK, US]),
                "ipos": await client.get_ipo_list(QotMarket.HK),
                "filter": await client.get_stock_filter(
                    QotMarket.HK, [{"kind": "base", "field": 13, "min": 0, "max": 25, "sort": 1}]
                ),
                "rehab": await client.get_rehab(US),
                "groups": await client.get_user_security_group(3),
                "members": await client.get_user_security("Tech Leaders"),
                "reminders": await client.get_price_reminder(market=QotMarket.US),
            }

    return asyncio.run(run())


def _pairs(label: str, frame: Any, mine: list[Any], min_common: int) -> None:
    rows = _rows(frame)
    assert len(rows) == len(mine) > 0, label
    for row, ours in zip(rows, mine, strict=True):
        # The SDK drops listing_date when optionExData is present (see test_agreement).
        plain = {k: v for k, v in ours.to_dict().items() if k != "listing_date"}
        _agree(label, row, plain, min_common=min_common)


def test_sdk_and_our_client_agree_on_issue_14_protocols(ft: ModuleType, fmt: str) -> None:
    with SimulatorThread(seed=21, start_time=START) as sim:
        host, port = sim.address
        ours = _client_reads(port)
        quote = ft.OpenQuoteContext(host=host, port=port)
        try:
            _, snap = quote.get_market_snapshot([OPTION, "HK.HSImain"])
            _pairs("snapshot", snap, ours["snapshot"], 30)
            _, expiries = quote.get_option_expiration_date("US.AAPL")
            _pairs("expiries", expiries, ours["expiries"], 3)
            _, chain = quote.get_option_chain("US.AAPL", start="2026-12-18", end="2026-12-18")
            _pairs("chain", chain, ours["chain"], 7)
            request = ft.WarrantRequest()
            table, last_page, count = quote.get_warrant("HK.00700", request)[1]
            assert (last_page, count) == (ours["warrants"].last_page, ours["warrants"].all_count)
            _pairs("warrants", table, ours["warrants"].rows, 25)
            _, futures = quote.get_future_info(["HK.HSImain"])
            _pairs("futures", futures, ours["futures"], 12)
            _, reference = quote.get_referencestock_list(
                "HK.00700", ft.SecurityReferenceType.WARRANT
            )
            _pairs("reference", reference, ours["reference"], 3)
            _, flow = quote.get_capital_flow("HK.00700")
            _pairs("flow", flow, ours["flow"], 6)
            _, distribution = quote.get_capital_distribution("HK.00700")
            _pairs("distribution", distribution, [ours["distribution"]], 9)
            _, plates = quote.get_owner_plate(["HK.00700", "US.AAPL"])
            _pairs("plates", plates, ours["plates"], 5)
            _, ipos = quote.get_ipo_list(ft.Market.HK)
            _pairs("ipos", ipos, ours["ipos"], 3)
            condition = ft.SimpleFilter()
            condition.stock_field = ft.StockField.PE_TTM
            condition.filter_min, condition.filter_max = 0, 25
            condition.is_no_filter = False
            condition.sort = ft.SortDir.ASCEND
            last, count, rows = quote.get_stock_filter(ft.Market.HK, [condition])[1]
            page = ours["filter"]
            assert (last, count) == (page.last_page, page.all_count)
            assert [r.stock_code for r in rows] == [r.code for r in page.rows]
            assert [r.pe_ttm for r in rows] == [r.values[0].value for r in page.rows]
            _, rehab = quote.get_rehab("US.AAPL")
            _pairs("rehab", rehab, ours["rehab"], 6)
            _, groups = quote.get_user_security_group(ft.UserSecurityGroupType.ALL)
            _pairs("groups", groups, ours["groups"], 2)
            _, members = quote.get_user_security("Tech Leaders")
            _pairs("members", members, ours["members"], 5)
            _, reminders = quote.get_price_reminder(market=ft.Market.US)
            _pairs("reminders", reminders, ours["reminders"], 7)
        finally:
            quote.close()
