"""HTTP on an address other machines can reach gets one clear-text warning; loopback none.
Nothing is bound here: tests stay on 127.0.0.1."""

import logging

import pytest

from futu_mcp.http import warn_if_exposed


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "2001:db8::1", "myhost.example"])
def test_a_reachable_address_warns_once(host: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="futu_mcp.http"):
        assert warn_if_exposed(host) is True
    (record,) = caplog.records
    assert "clear text" in record.getMessage() and "TLS" in record.getMessage()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_does_not_warn(host: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="futu_mcp.http"):
        assert warn_if_exposed(host) is False
    assert caplog.records == []
