"""Plate (sector) tools (`qot:read`, in the `quote` toolset): a market's plates and a plate's
members. Read-only."""

from typing import Annotated, Any

from pydantic import Field

from futu_mcp.appstate import Call
from futu_mcp.args import Code, MarketName, PlateClassName, ToolArgs, num_field
from futu_mcp.results import capped, list_schema
from futu_mcp.toolspec import ToolSpec
from opend.codes import QotMarket, parse_code
from opend.enums import Plate

SCOPE = "qot:read"
MAX_ROWS = 500


class PlatesArgs(ToolArgs):
    """Arguments of futu_list_plates (the published schema comes from here)."""

    market: Annotated[MarketName, Field(description="Market whose plates to list")]
    plate_class: Annotated[PlateClassName, Field(description="Kind of plate")] = "ALL"
    num: Annotated[int, num_field(100, MAX_ROWS, "plates")] = 100


async def _list_plates(call: Call, args: PlatesArgs) -> dict[str, Any]:
    rows = await call.client.get_plate_list(QotMarket[args.market], Plate[args.plate_class])
    return capped("plates", rows, args.num)


class PlateStocksArgs(ToolArgs):
    """Arguments of futu_plate_stocks (the published schema comes from here)."""

    plate_code: Annotated[
        Code, Field(description="Plate code from futu_list_plates, e.g. HK.BK1001")
    ]
    num: Annotated[int, num_field(100, MAX_ROWS, "securities")] = 100


async def _plate_stocks(call: Call, args: PlateStocksArgs) -> dict[str, Any]:
    rows = await call.client.get_plate_stock(parse_code(args.plate_code))
    return capped("securities", rows, args.num, plate_code=args.plate_code)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_list_plates",
        title="Plates (sectors) of a market",
        description=(
            "Industry, region and concept plates of a market (default 100, at most 500). Use the "
            "returned code with futu_plate_stocks. Returns {plates: [{code, plate_name, "
            "plate_id}], truncated, total}."
        ),
        args=PlatesArgs,
        output_schema=list_schema("plates", "plates"),
        handler=_list_plates,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_plate_stocks",
        title="Securities of a plate",
        description=(
            "The securities in one plate (default 100, at most 500). Returns {securities: "
            "[{code, name, lot_size, stock_type}], truncated, total}."
        ),
        args=PlateStocksArgs,
        output_schema=list_schema(
            "securities",
            "members of the plate",
            {"plate_code": {"type": "string"}},
            ids=["stock_id"],
        ),
        handler=_plate_stocks,
        scope=SCOPE,
    ),
)
