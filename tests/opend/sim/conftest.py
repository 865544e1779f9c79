"""Fixtures shared by the simulator's tests."""

import signal
from collections.abc import Iterator
from types import ModuleType

import pytest


@pytest.fixture
def ft(isolated_home: object) -> Iterator[ModuleType]:
    """The official SDK, imported lazily with HOME isolated and Ctrl-C left alone (its import
    installs an os._exit handler); its process-global settings are reset afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    import futu

    signal.signal(signal.SIGINT, previous)
    yield futu
    futu.SysConfig.set_init_rsa_file("")
    futu.SysConfig.enable_proto_encrypt(False)
    futu.SysConfig.set_proto_fmt(futu.ProtoFMT.Protobuf)


@pytest.fixture(params=["protobuf", "json"])
def fmt(request: pytest.FixtureRequest, ft: ModuleType) -> str:
    """Run the test once per body format the SDK can use."""
    ft.SysConfig.set_proto_fmt(
        ft.ProtoFMT.Json if request.param == "json" else ft.ProtoFMT.Protobuf
    )
    return request.param


def sdk_ok(result: tuple) -> object:  # type: ignore[type-arg]
    """The data of an SDK call's (ret, data) result, which must have succeeded."""
    assert result[0] == 0, result[1]
    return result[1]
