"""Settings: TOML file, flags on top, every value checked with a message naming it."""

from decimal import Decimal
from pathlib import Path

import pytest

from futu_mcp.config import ConfigError, load_config, split_host_port
from futu_mcp.hostcheck import transport_security


def test_toml_then_flags_win(tmp_path: Path) -> None:
    path = tmp_path / "futu-mcp.toml"
    path.write_text(
        'gateway = "10.0.0.5:11111"\nhttp_listen = "0.0.0.0:38765"\nallowed_hosts = ["mcp.example"]\n'
        'max_order_value = "HK=50000,US=6000"\nmax_orders_per_minute = 5\nread_only = true\n',
        encoding="utf-8",
    )
    config = load_config(
        path, {"gateway": "127.0.0.1:9", "read_only": None, "max_orders_per_minute": 2}
    )
    assert config.gateway_host_port == ("127.0.0.1", 9)
    assert config.http_host_port == ("0.0.0.0", 38765)
    assert config.allowed_hosts == ("mcp.example",)
    assert config.read_only is True
    assert config.max_orders_per_minute == 2
    assert config.max_order_value is not None
    assert config.max_order_value.for_market("US") == Decimal(6000)
    assert config.request_timeout == 5.0  # the default: a frozen OpenD is reported within 5 s


def test_toolsets_default_then_toml_then_flag(tmp_path: Path) -> None:
    """No `toolsets` anywhere: the original 19 tools' sets, so an existing config sees no
    change."""
    assert load_config(None, {}).toolsets == {"quote", "account", "trade"}
    path = tmp_path / "futu-mcp.toml"
    path.write_text('toolsets = ["default", "history"]\n', encoding="utf-8")
    assert load_config(path, {}).toolsets == {"quote", "account", "trade", "history"}
    assert load_config(path, {"toolsets": "calendar"}).toolsets == {"calendar"}


def test_request_timeout_from_toml_and_flag(tmp_path: Path) -> None:
    path = tmp_path / "futu-mcp.toml"
    path.write_text("request_timeout = 2.5\n", encoding="utf-8")
    assert load_config(path, {}).request_timeout == 2.5
    assert load_config(path, {"request_timeout": "8"}).request_timeout == 8.0


@pytest.mark.parametrize(
    ("toml", "flags", "message"),
    [
        ('gatway = "x:1"\n', {}, r"unknown key 'gatway' \(did you mean 'gateway'\?\)$"),
        ("max-order-vlaue = 1\n", {}, r"'max-order-vlaue' \(did you mean 'max_order_value'\?\)$"),
        ("colour = 1\n", {}, r"unknown key 'colour'$"),
        ('read_only = "yes"\n', {}, "read_only: expected true or false"),
        ("max_orders_per_minute = 0\n", {}, "max_orders_per_minute: expected a positive integer"),
        ("max_sessions_per_key = 0\n", {}, "max_sessions_per_key: expected a positive integer"),
        (
            "session_idle_timeout = -1\n",
            {},
            "^session_idle_timeout: expected seconds, more than 0, got -1$",
        ),
        (
            "session_idle_timeout = nan\n",
            {},
            "^session_idle_timeout: expected seconds, more than 0, got nan$",
        ),
        (
            "session_idle_timeout = inf\n",
            {},
            "^session_idle_timeout: expected seconds, more than 0, got inf$",
        ),
        (
            "",
            {"session_idle_timeout": True},
            "^session_idle_timeout: expected seconds, more than 0, got True$",
        ),
        (
            "",
            {"session_idle_timeout": "soon"},
            "^session_idle_timeout: expected seconds, more than 0, got 'soon'$",
        ),
        ("", {"max_order_value": "HK=abc"}, "max_order_value: not a number"),
        ("", {"http_listen": "localhost"}, "^http_listen: expected HOST:PORT"),
        ("", {"gateway": "opend:port"}, "^gateway: expected HOST:PORT, got 'opend:port'$"),
        ("", {"metrics_listen": "[::1]"}, "^metrics_listen: expected HOST:PORT"),
        ("gateway = [\n", {}, "config "),
        ("request_timeout = 0\n", {}, "^request_timeout: expected seconds, more than 0"),
        ("request_timeout = true\n", {}, "^request_timeout: expected seconds"),
        ("", {"request_timeout": "soon"}, "^request_timeout: expected seconds.*got 'soon'$"),
        ("", {"request_timeout": "nan"}, "^request_timeout: expected seconds"),
        ("", {"request_timeout": "301"}, "at most 300, got '301'$"),
        ('ledger = "postgres://db/1"\n', {}, "^ledger: expected redis://HOST:PORT/DB"),
        ("stateless = 1\n", {}, "^stateless: expected true or false"),
        ("stateless = true\n", {}, "^stateless: only with http_listen"),
        ('toolsets = ["quote", "plates"]\n', {}, "^toolsets: unknown toolset 'plates' \\(valid: "),
        ("toolsets = 3\n", {}, "^toolsets: expected names like"),
        ("", {"toolsets": ""}, "^toolsets: expected one or more of quote, account, trade"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, toml: str, flags: dict, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, flags)


def test_session_settings_default_then_toml_then_flags(tmp_path: Path) -> None:
    assert (
        load_config(None, {}).max_sessions_per_key,
        load_config(None, {}).session_idle_timeout,
    ) == (
        16,
        600.0,
    )
    path = tmp_path / "futu-mcp.toml"
    path.write_text("max_sessions_per_key = 4\nsession_idle_timeout = 90\n", encoding="utf-8")
    config = load_config(path, {"max_sessions_per_key": None, "session_idle_timeout": 2.5})
    assert (config.max_sessions_per_key, config.session_idle_timeout) == (4, 2.5)


def test_loopback_and_url_hosts() -> None:
    from futu_mcp.config import is_loopback, url_host

    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.com")] == [False] * 4
    assert (url_host("::1"), url_host("[::1]"), url_host("127.0.0.1")) == (
        "[::1]",
        "[::1]",
        "127.0.0.1",
    )


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config .*nope\.toml"):
        load_config(tmp_path / "nope.toml", {})


def test_host_port_forms() -> None:
    assert split_host_port("[::1]:80") == ("::1", 80)
    assert split_host_port(":38765") == ("127.0.0.1", 38765)
    assert split_host_port("38765") == ("127.0.0.1", 38765)
    assert split_host_port("0.0.0.0:38765") == ("0.0.0.0", 38765)
    with pytest.raises(ConfigError):
        split_host_port("host:99999")


def test_dns_rebinding_protection_is_on_for_every_bind() -> None:
    loop = transport_security("127.0.0.1", 0, ())
    assert loop.enable_dns_rebinding_protection
    assert "localhost:*" in loop.allowed_hosts and "127.0.0.1:*" in loop.allowed_hosts
    lan = transport_security("10.1.2.3", 38765, ())
    assert lan.enable_dns_rebinding_protection
    assert lan.allowed_hosts == ["10.1.2.3", "10.1.2.3:*"]
    proxied = transport_security("0.0.0.0", 38765, ("mcp.example", "gw.example:443"))
    assert {"mcp.example:*", "gw.example:443", "localhost:*"} <= set(proxied.allowed_hosts)
    assert "https://mcp.example" in proxied.allowed_origins
    assert not transport_security("0.0.0.0", 1, ("*",)).enable_dns_rebinding_protection
