"""RSA/AES when the simulator is given a key: raw handshake in every AES mode, and the SDK."""

import asyncio
import json
from pathlib import Path
from types import ModuleType

import pytest

from opend.crypto import (
    AesCodec,
    PacketEncAlgo,
    generate_rsa_key_pem,
    load_rsa_key,
    rsa_decrypt,
    rsa_encrypt,
)
from opend.framing import Frame, FrameDecoder, ProtoFmt, encode_frame
from opend.protoids import ProtoId
from opend.sim import Simulator, SimulatorThread

pytestmark = pytest.mark.anyio


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "opend_rsa.pem"
    path.write_bytes(generate_rsa_key_pem())
    return path


async def _read_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> Frame:
    while True:
        frames = decoder.feed(await reader.read(65536))
        if frames:
            return frames[0]


@pytest.mark.parametrize(
    "algo", [PacketEncAlgo.AES_CBC, PacketEncAlgo.FTAES_ECB, PacketEncAlgo.AES_ECB]
)
async def test_rsa_handshake_then_aes(key_path: Path, algo: PacketEncAlgo) -> None:
    key = load_rsa_key(key_path)
    async with Simulator(rsa_key_path=key_path) as sim:
        reader, writer = await asyncio.open_connection(*sim.address)
        decoder = FrameDecoder()
        init = json.dumps(
            {"c2s": {"clientVer": 300, "clientID": "enc", "packetEncAlgo": int(algo)}}
        ).encode()
        writer.write(
            encode_frame(ProtoId.INIT_CONNECT, 1, init, ProtoFmt.JSON, rsa_encrypt(key, init))
        )
        frame = await _read_frame(reader, decoder)
        reply = json.loads(rsa_decrypt(key, frame.body))
        assert reply["retType"] == 0
        s2c = reply["s2c"]
        aes = AesCodec(s2c["connAESKey"], algo, s2c.get("aesCBCiv"))
        body = b'{"c2s":{"time":"5"}}'
        writer.write(encode_frame(ProtoId.KEEP_ALIVE, 2, body, ProtoFmt.JSON, aes.encrypt(body)))
        frame = await _read_frame(reader, decoder)
        assert json.loads(aes.decrypt(frame.body))["retType"] == 0
        # A plaintext packet on an encrypted link is refused, not served.
        writer.write(encode_frame(ProtoId.KEEP_ALIVE, 3, body, ProtoFmt.JSON))
        frame = await _read_frame(reader, decoder)
        assert json.loads(frame.body)["retType"] == -1
        writer.close()


async def test_plaintext_init_connect_is_refused_when_a_key_is_set(key_path: Path) -> None:
    async with Simulator(rsa_key_path=key_path) as sim:
        reader, writer = await asyncio.open_connection(*sim.address)
        init = b'{"c2s":{"clientVer":300,"clientID":"plain"}}'
        writer.write(encode_frame(ProtoId.INIT_CONNECT, 1, init, ProtoFmt.JSON))
        frame = await _read_frame(reader, FrameDecoder())
        reply = json.loads(frame.body)
        assert reply["retType"] == -1 and "RSA" in reply["retMsg"]
        writer.close()


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_sdk_with_encryption(ft: ModuleType, key_path: Path, fmt: str) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    ft.SysConfig.enable_proto_encrypt(True)
    ft.SysConfig.set_init_rsa_file(str(key_path))  # the ft fixture resets both afterwards
    with SimulatorThread(rsa_key_path=key_path) as sim:
        host, port = sim.address
        ctx = ft.OpenQuoteContext(host=host, port=port)
        try:
            ret, snapshot = ctx.get_market_snapshot(["HK.00700"])
            assert ret == 0, snapshot
            assert snapshot["code"][0] == "HK.00700"
        finally:
            ctx.close()
