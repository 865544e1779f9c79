"""Security code parsing."""

import pytest

from opend.codes import BadCode, QotMarket, Security, parse_code


@pytest.mark.parametrize(
    ("text", "market", "code"),
    [
        ("HK.00700", QotMarket.HK, "00700"),
        ("US.AAPL", QotMarket.US, "AAPL"),
        ("us.aapl", QotMarket.US, "AAPL"),
        ("US..DJI", QotMarket.US, ".DJI"),
        ("SH.600519", QotMarket.SH, "600519"),
        ("SZ.000001", QotMarket.SZ, "000001"),
        ("US.aapl261218c200000", QotMarket.US, "AAPL261218C200000"),
        # A futures main contract keeps its lowercase suffix: OpenD matches case.
        ("US.ESmain", QotMarket.US, "ESmain"),
        ("us.esMAIN", QotMarket.US, "ESmain"),
        ("US.MAIN", QotMarket.US, "MAIN"),  # the ticker of Main Street Capital
        ("HK.HSImain", QotMarket.HK, "HSImain"),
    ],
)
def test_parse(text: str, market: QotMarket, code: str) -> None:
    sec = parse_code(text)
    assert (sec.market, sec.code) == (market, code)
    assert Security.from_wire(sec.to_wire()) == sec
    assert parse_code(str(sec)) == sec


@pytest.mark.parametrize(
    "text", ["", "00700", "HK.", ".00700", "XX.00700", "HK.00 700", "HK.0070;"]
)
def test_bad_codes(text: str) -> None:
    with pytest.raises(BadCode):
        parse_code(text)


def test_trd_market_names_every_official_market() -> None:
    """Every account market OpenD can report has a name (SDK spelling), so none shows UNKNOWN."""
    import importlib

    from opend import pbschema
    from opend.codes import TrdMarket
    from opend.protoids import ProtoId

    pbschema.pb_module(ProtoId.TRD_GET_ACC_LIST)  # puts the official pb2 folder on sys.path
    official = importlib.import_module("Trd_Common_pb2").TrdMarket
    expected = {
        number: name.removeprefix("TrdMarket_").upper().replace("_FUND", "FUND")
        for name, number in official.items()
        if number != official.Value("TrdMarket_Unknown")
    }
    assert {int(m): m.name for m in TrdMarket} == expected
