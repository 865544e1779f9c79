"""Hypothesis fuzzing of every tool's arguments, every toolset's, through a real MCP client over
HTTP.

Strategies come from each tool's inputSchema as the client receives it in tools/list (so a
schema change is fuzzed as published), mixed with the sim's real codes, accounts and order ids
so calls get past validation, and with hostile values: huge strings, wrong types, unknown and
missing names, NaN and infinities, negatives, 2^63, odd unicode. Every call must end as a
result (which the client checks against the tool's outputSchema) or as `invalid argument: ...`
or `gateway error: ...`; never an internal error, a protocol error, a hang or a dead server. No
result may hold an integer a JavaScript client would round (past 2^53): ids are strings.
"""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from futu_mcp.audit import verify_file
from futu_mcp.config import DEFAULT_TOOLSETS
from futu_mcp.errors import INTERNAL_ERROR
from futu_mcp.tools.registry import GROUPS, all_tools
from opend.sim.universe import PLATES, SECURITIES
from tests.e2e.conftest import gateway_of, http_client, wait_for
from tests.e2e.test_mcp_tools import ALL_SCOPES
from tests.reliability.conftest import scaled

pytestmark = pytest.mark.slow

CALL_TIMEOUT = 10.0  # far above any call's real time: passing it is a hang
EXPECTED_ERRORS = ("invalid argument: ", "gateway error: ")
MIN_RESULTS = 0.1  # the share of calls that must get past validation to a real result

# Text that looks almost right, or is special to a parser somewhere along the way.
ODD_TEXTS = ["", " ", "\x00", "\u202e", "🚀", "HK.", ".AAPL", "HK.00700\n", "HK.00700,", ",,,", "[",
             '["HK.00700",', "null", "NaN", "Infinity", "-1", "1e999", "0x10", "٣", "ＨＫ.００７００"]  # fmt: skip
HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([2**63, 2**63 - 1, -(2**63), 2**64, -1, 0, 10**30, -0.0, 5e-324, 1e308]),
    # NaN and the infinities reach the wire as null through the SDK client: see the raw test.
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(ODD_TEXTS),
    st.integers(min_value=1_000, max_value=300_000).map(lambda n: "A" * n),
    st.lists(st.integers() | st.text(max_size=5), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
)


class Known:
    """Real values from the simulator, so fuzzed calls also reach OpenD and the trade path."""

    def __init__(self, sim: Any) -> None:
        self.codes = sorted(SECURITIES)
        self.plates = sorted(PLATES)
        self.accounts = sorted(sim.state.accounts)
        self.orders: list[str] = []  # ids of orders the fuzzer placed

    def order(self, n: int, any_id: str) -> str:
        """Mostly one of the orders placed so far, else `any_id`. The orders grow as the run
        goes on, so the choice is made after drawing: Hypothesis sees the same draws whatever
        was placed (a strategy that depends on outside state is an error to it)."""
        if self.orders and n % 4:
            return self.orders[n % len(self.orders)]
        return any_id


def valid(name: str, schema: dict[str, Any], known: Known) -> st.SearchStrategy[Any]:
    """Values the schema accepts (plus the sim's codes and ids for the names that take them)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        item = valid(name, schema.get("items", {}), known)
        items = st.lists(
            item, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 5), 5)
        )
        # The contract also takes a list as comma-separated text.
        return items | items.map(lambda xs: ",".join(str(x) for x in xs))
    if kind == "string":
        if name == "plate_code":
            return st.sampled_from(known.plates)
        if "code" in name:
            return st.sampled_from(known.codes)
        if name == "order_id":
            drawn = st.tuples(
                st.integers(0, 2**16), st.from_regex(schema["pattern"], fullmatch=True)
            )
            return drawn.map(lambda pair: known.order(*pair))
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40)
        )
    if name == "acc_id":
        # The contract takes an id as an exact integer or its decimal text (issue 12).
        return st.sampled_from(known.accounts).flatmap(lambda a: st.sampled_from([a, str(a)]))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        return st.floats(
            low,
            schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
        ) | st.integers(1, 1000)
    if kind == "boolean":
        return st.booleans()
    return HOSTILE


def arguments(schema: dict[str, Any], known: Known) -> st.SearchStrategy[dict[str, Any]]:
    """An arguments object: each property valid, hostile or left out; now and then a required
    one missing or an unknown name added."""
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for name, prop in props.items():
            present = name in required or draw(st.booleans())
            if draw(st.integers(0, 19)) == 0:
                present = not present  # a required one missing, or an optional one given
            if present:
                hostile = draw(st.integers(0, 5)) == 0
                args[name] = draw(HOSTILE if hostile else valid(name, prop, known))
        if draw(st.integers(0, 9)) == 0:
            args[draw(st.text(min_size=1, max_size=20))] = draw(HOSTILE)
        return args

    return build()


async def _call(client: Any, tool: str, args: dict[str, Any]) -> Any:
    with anyio.fail_after(CALL_TIMEOUT):
        return await client.call_tool(tool, args)


def _shown(args: dict[str, Any]) -> str:
    """The arguments for a failure message, huge strings shortened."""
    text = json.dumps(args, default=repr, ensure_ascii=False)
    return text if len(text) < 500 else text[:500] + "..."


def unsafe_integers(value: Any, path: str = "") -> list[str]:
    """Where `value` holds an integer past 2^53, which a JavaScript client rounds."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in unsafe_integers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unsafe_integers(v, f"{path}[{i}]")]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return [f"{path} = {value}"]
    return []


def fuzz(
    portal: BlockingPortal, client: Any, sim: Any, examples: int, toolsets: frozenset[str]
) -> Counter[str]:
    """Run `examples` fuzzed calls over the tools of `toolsets` in tools/list; returns how the
    calls ended."""
    listed = portal.call(client.list_tools).tools
    sets = {t.name: t.toolset for t in all_tools()}
    tools = {t.name: t for t in listed if sets[t.name] in toolsets}
    assert sorted(tools) == sorted(n for n, toolset in sets.items() if toolset in toolsets)
    known = Known(sim)
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_call(data: st.DataObject) -> None:
        tool = tools[data.draw(st.sampled_from(sorted(tools)), label="tool")]
        args = data.draw(arguments(tool.input_schema, known), label="arguments")
        sim.advance(0.05)  # a person's pace between orders to one account (OpenD's gap)
        result = portal.call(_call, client, tool.name, args)
        where = f"{tool.name} {_shown(args)}"
        if not result.is_error:
            assert not unsafe_integers(result.structured_content), where
            outcomes["result"] += 1
            order_id = (result.structured_content or {}).get("order_id")
            if order_id is not None:
                known.orders.append(str(order_id))
            return
        text = result.content[0].text
        assert text != INTERNAL_ERROR, where
        assert text.startswith(EXPECTED_ERRORS), f"{where} -> {text}"
        outcomes[text.split(":", 1)[0]] += 1

    one_call()
    return outcomes


@pytest.mark.parametrize(
    ("toolsets", "examples"),
    [
        (frozenset(DEFAULT_TOOLSETS), scaled(100, 3500)),
        (frozenset(GROUPS["all"]) - frozenset(DEFAULT_TOOLSETS), scaled(100, 3500)),
    ],
    ids=["default-toolsets", "other-toolsets"],
)
def test_every_tool_fuzzed_through_a_real_client_gets_a_result_or_a_clean_refusal(
    sim: Any,
    make_key: Any,
    http_server: Any,
    tmp_path: Path,
    toolsets: frozenset[str],
    examples: int,
) -> None:
    token = make_key("fuzz", ALL_SCOPES, confirm_orders="never")
    audit = tmp_path / "audit.jsonl"
    # The quote set is served too, for futu_ping at the end (fuzzed only where it is asked for).
    served = ",".join(toolsets | {"quote"})
    server = http_server(
        "--gateway", gateway_of(sim), "--audit-log", str(audit), "--toolsets", served
    )
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(http_client(server.url, token)) as client,
    ):
        outcomes = fuzz(portal, client, sim, examples, toolsets)
        # Still serving, and the refusals did not cost the session anything.
        assert not portal.call(_call, client, "futu_ping", {}).is_error
    print(f"fuzz: {sum(outcomes.values())} calls: {dict(outcomes)}")
    assert outcomes["result"] >= MIN_RESULTS * sum(outcomes.values()), outcomes
    assert server.proc.poll() is None
    logs = server.logs()
    assert "Traceback" not in logs and " failed" not in logs, logs[-3000:]
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert not re.search(r'outcome="internal"', metrics)
    assert verify_file(audit).ok
    assert token not in audit.read_text() and token not in logs


RAW_VALUES = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9223372036854775808"]
RAW_TARGETS = [
    ("futu_place_order", '{"code": "HK.00700", "trd_side": "BUY", "qty": %s, "price": 300}'),
    ("futu_place_order", '{"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": %s}'),
    ("futu_modify_order", '{"order_id": "1", "price": %s}'),
    ("futu_get_kline", '{"code": "HK.00700", "num": %s}'),
    ("futu_get_funds", '{"acc_id": %s}'),
]


def _rpc_reply(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message of a reply sent as JSON or as one SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


def test_nan_infinity_and_huge_numbers_on_the_wire_are_refused_cleanly(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path
) -> None:
    """What the SDK client cannot send (it turns NaN into null): JSON's non-standard NaN and
    Infinity, and numbers past float and int64 range, written into the request body."""
    token = make_key("raw", ALL_SCOPES, confirm_orders="never")
    audit = tmp_path / "audit.jsonl"
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    before = len(sim.state.orders)
    with httpx2.Client(headers=headers, timeout=CALL_TIMEOUT) as http:
        opened = http.post(server.url, json=init)
        assert opened.status_code == 200, opened.text
        session = {
            "mcp-session-id": opened.headers["mcp-session-id"],
            "mcp-protocol-version": _rpc_reply(opened)["result"]["protocolVersion"],
        }
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert http.post(server.url, json=note, headers=session).status_code == 202
        for n, (tool, template) in enumerate(
            (tool, template) for tool, template in RAW_TARGETS for _ in RAW_VALUES
        ):
            value = RAW_VALUES[n % len(RAW_VALUES)]
            body = (
                f'{{"jsonrpc": "2.0", "id": {n + 1}, "method": "tools/call", '
                f'"params": {{"name": "{tool}", "arguments": {template % value}}}}}'
            )
            reply = http.post(server.url, content=body, headers=session)
            where = f"{tool} {template % value}"
            assert reply.status_code in (200, 400), f"{where}: {reply.status_code}"
            message = _rpc_reply(reply)
            if "error" in message:  # the transport refused the JSON itself
                assert message["error"]["code"] in (-32700, -32600, -32602), f"{where}: {message}"
                continue
            result = message["result"]
            assert result["isError"] is True, f"{where}: {result}"
            assert result["content"][0]["text"].startswith("invalid argument: "), where
    assert len(sim.state.orders) == before
    assert server.proc.poll() is None
    assert "Traceback" not in server.logs()
    # The audit lines are standard JSON (no NaN or Infinity), which any tool can read.
    wait_for(lambda: len(audit.read_text().splitlines()) >= n + 1, what="every call audited")
    for line in audit.read_text().splitlines():
        json.loads(line, parse_constant=_refuse_constant)
    assert verify_file(audit).ok


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} in an audit line: not standard JSON")
