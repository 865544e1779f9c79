"""tools/list shows a revoked key nothing (its calls are refused anyway)."""

from pathlib import Path
from typing import Any

import pytest

from keystore.store import KeyStore
from tests.futu_mcp.test_server import in_memory

pytestmark = pytest.mark.anyio


async def test_a_key_revoked_mid_session_sees_no_tools(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    token = make_key("soon-gone", "qot:read,acc:read,trade:simulate")
    async with in_memory(sim, keys_file, token) as client:
        assert len((await client.list_tools()).tools) == 19
        KeyStore(keys_file).revoke("soon-gone")
        assert (await client.list_tools()).tools == []
        result = await client.call_tool("futu_get_quote", {"codes": "HK.00700"})
    assert result.is_error and result.content[0].text == "key revoked"
