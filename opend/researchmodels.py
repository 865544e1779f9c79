"""Typed results of the derivatives, research and watchlist protocols, with the official SDK's
field names and enum spellings (the companion of `models`, which holds the original ones)."""

from dataclasses import dataclass, field
from typing import Any

from opend.enums import (
    ExpirationCycle,
    Issuer,
    OptionType,
    Plate,
    PriceReminderFreq,
    PriceReminderType,
    UserSecurityGroupType,
    WrtType,
)
from opend.models import Model
from opend.wire import code_of, enum_name, id_str, opt_bool, opt_float, opt_int, opt_str

Wire = dict[str, Any]


@dataclass(frozen=True, slots=True)
class OptionExpiration(Model):
    """One row of get_option_expiration_date."""

    strike_time: str | None
    option_expiry_date_distance: int | None
    expiration_cycle: str | None

    @classmethod
    def from_wire(cls, d: Wire) -> "OptionExpiration":
        """Read a Qot_GetOptionExpirationDate.OptionExpirationDate."""
        return cls(
            strike_time=opt_str(d.get("strikeTime")),
            option_expiry_date_distance=opt_int(d.get("optionExpiryDateDistance")),
            expiration_cycle=enum_name(ExpirationCycle, d.get("cycle")),
        )


@dataclass(frozen=True, slots=True)
class OptionContract(Model):
    """One row of get_option_chain: a series' static data."""

    code: str | None
    name: str | None
    lot_size: int | None
    stock_owner: str | None
    option_type: str | None
    strike_time: str | None
    strike_price: float | None
    suspension: bool | None
    expiration_cycle: str | None

    @classmethod
    def from_wire(cls, info: Wire) -> "OptionContract":
        """Read a SecurityStaticInfo that carries optionExData."""
        basic = info.get("basic") or {}
        ex = info.get("optionExData") or {}
        return cls(
            code=code_of(basic.get("security")),
            name=opt_str(basic.get("name")),
            lot_size=opt_int(basic.get("lotSize")),
            stock_owner=code_of(ex.get("owner")),
            option_type=enum_name(OptionType, ex.get("type")),
            strike_time=opt_str(ex.get("strikeTime")),
            strike_price=opt_float(ex.get("strikePrice")),
            suspension=opt_bool(ex.get("suspend")),
            expiration_cycle=enum_name(ExpirationCycle, ex.get("expirationCycle")),
        )


@dataclass(frozen=True, slots=True)
class Warrant(Model):
    """One row of get_warrant."""

    stock: str | None
    name: str | None
    stock_owner: str | None
    type: str | None
    issuer: str | None
    maturity_time: str | None
    list_time: str | None
    last_trade_time: str | None
    recovery_price: float | None
    conversion_ratio: float | None
    lot_size: int | None
    strike_price: float | None
    last_close_price: float | None
    cur_price: float | None
    price_change_val: float | None
    change_rate: float | None
    bid_price: float | None
    ask_price: float | None
    volume: int | None
    turnover: float | None
    score: float | None
    premium: float | None
    break_even_point: float | None
    leverage: float | None
    ipop: float | None
    price_recovery_ratio: float | None
    conversion_price: float | None
    street_rate: float | None
    street_vol: int | None
    issue_size: int | None
    implied_volatility: float | None
    delta: float | None
    effective_leverage: float | None

    @classmethod
    def from_wire(cls, w: Wire) -> "Warrant":
        """Read a Qot_GetWarrant.WarrantData."""
        return cls(
            stock=code_of(w.get("stock")),
            name=opt_str(w.get("name")),
            stock_owner=code_of(w.get("owner")),
            type=enum_name(WrtType, w.get("type")),
            issuer=enum_name(Issuer, w.get("issuer")),
            maturity_time=opt_str(w.get("maturityTime")),
            list_time=opt_str(w.get("listTime")),
            last_trade_time=opt_str(w.get("lastTradeTime")),
            recovery_price=opt_float(w.get("recoveryPrice")),
            conversion_ratio=opt_float(w.get("conversionRatio")),
            lot_size=opt_int(w.get("lotSize")),
            strike_price=opt_float(w.get("strikePrice")),
            last_close_price=opt_float(w.get("lastClosePrice")),
            cur_price=opt_float(w.get("curPrice")),
            price_change_val=opt_float(w.get("priceChangeVal")),
            change_rate=opt_float(w.get("changeRate")),
            bid_price=opt_float(w.get("bidPrice")),
            ask_price=opt_float(w.get("askPrice")),
            volume=opt_int(w.get("volume")),
            turnover=opt_float(w.get("turnover")),
            score=opt_float(w.get("score")),
            premium=opt_float(w.get("premium")),
            break_even_point=opt_float(w.get("breakEvenPoint")),
            leverage=opt_float(w.get("leverage")),
            ipop=opt_float(w.get("ipop")),
            price_recovery_ratio=opt_float(w.get("priceRecoveryRatio")),
            conversion_price=opt_float(w.get("conversionPrice")),
            street_rate=opt_float(w.get("streetRate")),
            street_vol=opt_int(w.get("streetVol")),
            issue_size=opt_int(w.get("issueSize")),
            implied_volatility=opt_float(w.get("impliedVolatility")),
            delta=opt_float(w.get("delta")),
            effective_leverage=opt_float(w.get("effectiveLeverage")),
        )


@dataclass(frozen=True, slots=True)
class WarrantPage(Model):
    """A page of get_warrant: the rows, whether it is the last page, and the total."""

    rows: list[Warrant]
    last_page: bool
    all_count: int

    @classmethod
    def from_wire(cls, s2c: Wire) -> "WarrantPage":
        """Read a Qot_GetWarrant reply."""
        return cls(
            rows=[Warrant.from_wire(w) for w in s2c.get("warrantDataList") or []],
            last_page=bool(s2c.get("lastPage")),
            all_count=opt_int(s2c.get("allCount")) or 0,
        )


@dataclass(frozen=True, slots=True)
class FutureInfo(Model):
    """One row of get_future_info."""

    code: str | None
    name: str | None
    owner: str | None
    exchange: str | None
    type: str | None
    size: float | None
    size_unit: str | None
    price_currency: str | None
    price_unit: str | None
    min_change: float | None
    min_change_unit: str | None
    trade_time: list[list[float]]  # [begin, end] in minutes of the local day
    time_zone: str | None
    last_trade_time: str | None
    exchange_format_url: str | None
    origin_code: str | None

    @classmethod
    def from_wire(cls, f: Wire) -> "FutureInfo":
        """Read a Qot_GetFutureInfo.FutureInfo."""
        return cls(
            code=code_of(f.get("security")),
            name=opt_str(f.get("name")),
            owner=code_of(f.get("owner")) or opt_str(f.get("ownerOther")),
            exchange=opt_str(f.get("exchange")),
            type=opt_str(f.get("contractType")),
            size=opt_float(f.get("contractSize")),
            size_unit=opt_str(f.get("contractSizeUnit")),
            price_currency=opt_str(f.get("quoteCurrency")),
            price_unit=opt_str(f.get("quoteUnit")),
            min_change=opt_float(f.get("minVar")),
            min_change_unit=opt_str(f.get("minVarUnit")),
            trade_time=[
                [float(t.get("begin", 0)), float(t.get("end", 0))] for t in f.get("tradeTime") or []
            ],
            time_zone=opt_str(f.get("timeZone")),
            last_trade_time=opt_str(f.get("lastTradeTime")),
            exchange_format_url=opt_str(f.get("exchangeFormatUrl")),
            origin_code=code_of(f.get("origin")),
        )


@dataclass(frozen=True, slots=True)
class CapitalFlowItem(Model):
    """One row of get_capital_flow: net inflow at a minute (intraday) or over a period."""

    capital_flow_item_time: str | None
    in_flow: float | None
    main_in_flow: float | None
    super_in_flow: float | None
    big_in_flow: float | None
    mid_in_flow: float | None
    sml_in_flow: float | None
    last_valid_time: str | None

    @classmethod
    def from_wire(cls, item: Wire, last_valid_time: str | None) -> "CapitalFlowItem":
        """Read a Qot_GetCapitalFlow.CapitalFlowItem."""
        return cls(
            capital_flow_item_time=opt_str(item.get("time")),
            in_flow=opt_float(item.get("inFlow")),
            main_in_flow=opt_float(item.get("mainInFlow")),
            super_in_flow=opt_float(item.get("superInFlow")),
            big_in_flow=opt_float(item.get("bigInFlow")),
            mid_in_flow=opt_float(item.get("midInFlow")),
            sml_in_flow=opt_float(item.get("smlInFlow")),
            last_valid_time=last_valid_time,
        )


@dataclass(frozen=True, slots=True)
class CapitalDistribution(Model):
    """get_capital_distribution: today's inflow and outflow by order size."""

    capital_in_super: float | None
    capital_in_big: float | None
    capital_in_mid: float | None
    capital_in_small: float | None
    capital_out_super: float | None
    capital_out_big: float | None
    capital_out_mid: float | None
    capital_out_small: float | None
    update_time: str | None

    @classmethod
    def from_wire(cls, s2c: Wire) -> "CapitalDistribution":
        """Read a Qot_GetCapitalDistribution reply."""
        return cls(
            capital_in_super=opt_float(s2c.get("capitalInSuper")),
            capital_in_big=opt_float(s2c.get("capitalInBig")),
            capital_in_mid=opt_float(s2c.get("capitalInMid")),
            capital_in_small=opt_float(s2c.get("capitalInSmall")),
            capital_out_super=opt_float(s2c.get("capitalOutSuper")),
            capital_out_big=opt_float(s2c.get("capitalOutBig")),
            capital_out_mid=opt_float(s2c.get("capitalOutMid")),
            capital_out_small=opt_float(s2c.get("capitalOutSmall")),
            update_time=opt_str(s2c.get("updateTime")),
        )


@dataclass(frozen=True, slots=True)
class OwnerPlate(Model):
    """One row of get_owner_plate: a security and one plate it belongs to."""

    code: str | None
    name: str | None
    plate_code: str | None
    plate_name: str | None
    plate_type: str | None

    @classmethod
    def from_wire(cls, item: Wire, p: Wire) -> "OwnerPlate":
        """Read one PlateInfo of a Qot_GetOwnerPlate.SecurityOwnerPlate."""
        return cls(
            code=code_of(item.get("security")),
            name=opt_str(item.get("name")),
            plate_code=code_of(p.get("plate")),
            plate_name=opt_str(p.get("name")),
            plate_type=enum_name(Plate, p.get("plateType")),
        )


@dataclass(frozen=True, slots=True)
class Ipo(Model):
    """One row of get_ipo_list (the market's own extension fields under `ex`)."""

    code: str | None
    name: str | None
    list_time: str | None
    ex: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, item: Wire) -> "Ipo":
        """Read a Qot_GetIpoList.IpoData."""
        basic = item.get("basic") or {}
        ex = next(
            (item[k] for k in ("hkExData", "usExData", "cnExData") if item.get(k)),
            {},
        )
        return cls(
            code=code_of(basic.get("security")),
            name=opt_str(basic.get("name")),
            list_time=opt_str(basic.get("listTime")),
            ex=dict(ex),
        )


@dataclass(frozen=True, slots=True)
class FilterValue(Model):
    """One screened figure: kind (base, accumulate, financial), field number (StockField,
    AccumulateField or FinancialField), value, and period: days for accumulate figures, the
    quarter (FinancialQuarter) for financial ones, 0 for base ones."""

    kind: str
    field: int
    value: float
    period: int


@dataclass(frozen=True, slots=True)
class FilteredStock(Model):
    """One row of get_stock_filter."""

    code: str | None
    name: str | None
    values: list[FilterValue]

    @classmethod
    def from_wire(cls, row: Wire) -> "FilteredStock":
        """Read a Qot_StockFilter.StockData."""
        values = [
            FilterValue(
                kind=kind,
                field=int(v["fieldName"]),
                value=float(v["value"]),
                period=opt_int(v.get(period)) or 0 if period else 0,
            )
            for kind, key, period in (
                ("base", "baseDataList", ""),
                ("accumulate", "accumulateDataList", "days"),
                ("financial", "financialDataList", "quarter"),
            )
            for v in row.get(key) or []
        ]
        return cls(code=code_of(row.get("security")), name=opt_str(row.get("name")), values=values)


@dataclass(frozen=True, slots=True)
class FilterPage(Model):
    """A page of get_stock_filter."""

    last_page: bool
    all_count: int
    rows: list[FilteredStock]

    @classmethod
    def from_wire(cls, s2c: Wire) -> "FilterPage":
        """Read a Qot_StockFilter reply."""
        return cls(
            last_page=bool(s2c.get("lastPage")),
            all_count=opt_int(s2c.get("allCount")) or 0,
            rows=[FilteredStock.from_wire(r) for r in s2c.get("dataList") or []],
        )


@dataclass(frozen=True, slots=True)
class Rehab(Model):
    """One row of get_rehab: a corporate action and its adjustment factors."""

    ex_div_date: str | None
    forward_adj_factorA: float | None  # the SDK's spelling, capital A and B
    forward_adj_factorB: float | None
    backward_adj_factorA: float | None
    backward_adj_factorB: float | None
    split_base: int | None
    split_ert: int | None
    per_cash_div: float | None
    special_dividend: float | None
    company_act_flag: int | None

    @classmethod
    def from_wire(cls, r: Wire) -> "Rehab":
        """Read a Qot_Common.Rehab."""
        time = opt_str(r.get("time"))
        return cls(
            ex_div_date=time.split()[0] if time else None,
            forward_adj_factorA=opt_float(r.get("fwdFactorA")),
            forward_adj_factorB=opt_float(r.get("fwdFactorB")),
            backward_adj_factorA=opt_float(r.get("bwdFactorA")),
            backward_adj_factorB=opt_float(r.get("bwdFactorB")),
            split_base=opt_int(r.get("splitBase")),
            split_ert=opt_int(r.get("splitErt")),
            per_cash_div=opt_float(r.get("dividend")),
            special_dividend=opt_float(r.get("spDividend")),
            company_act_flag=opt_int(r.get("companyActFlag")),
        )


@dataclass(frozen=True, slots=True)
class SecurityGroup(Model):
    """One row of get_user_security_group."""

    group_name: str | None
    group_type: str | None

    @classmethod
    def from_wire(cls, g: Wire) -> "SecurityGroup":
        """Read a Qot_GetUserSecurityGroup.GroupData."""
        return cls(
            group_name=opt_str(g.get("groupName")),
            group_type=enum_name(UserSecurityGroupType, g.get("groupType")),
        )


@dataclass(frozen=True, slots=True)
class PriceReminder(Model):
    """One row of get_price_reminder: one reminder of one security."""

    code: str | None
    name: str | None
    key: str | None
    reminder_type: str | None
    reminder_freq: str | None
    value: float | None
    enable: bool | None
    note: str | None

    @classmethod
    def from_wire(cls, item: Wire, r: Wire) -> "PriceReminder":
        """Read one PriceReminderItem of a Qot_GetPriceReminder.PriceReminder."""
        return cls(
            code=code_of(item.get("security")),
            name=opt_str(item.get("name")),
            key=id_str(r.get("key")),
            reminder_type=enum_name(PriceReminderType, r.get("type")),
            reminder_freq=enum_name(PriceReminderFreq, r.get("freq")),
            value=opt_float(r.get("value")),
            enable=opt_bool(r.get("isEnable")),
            note=opt_str(r.get("note")),
        )
