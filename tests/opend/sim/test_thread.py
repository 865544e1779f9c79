"""`SimulatorThread`: the simulator on its own loop, driven from synchronous code and threads."""

import json
import socket
import threading

import pytest

from opend.framing import FrameDecoder, ProtoFmt, encode_frame
from opend.protoids import ProtoId
from opend.sim import SimulatorThread
from tests.opend.sim.rawwire import INIT_C2S


class SyncConn:
    """A blocking socket speaking framed JSON, the way threaded SDK code talks."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=5)
        self.decoder = FrameDecoder()
        self.pending: list = []
        self.serial = 0
        assert self.request(ProtoId.INIT_CONNECT, INIT_C2S)["retType"] == 0

    def send(self, proto_id: int, c2s: dict) -> int:
        self.serial += 1
        self.sock.sendall(
            encode_frame(proto_id, self.serial, json.dumps({"c2s": c2s}).encode(), ProtoFmt.JSON)
        )
        return self.serial

    def receive(self) -> tuple[int, dict]:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the simulator")
            self.pending.extend(self.decoder.feed(data))
        frame = self.pending.pop(0)
        return frame.serial, json.loads(frame.body)

    def request(self, proto_id: int, c2s: dict) -> dict:
        serial = self.send(proto_id, c2s)
        got, body = self.receive()
        assert got == serial
        return body


def test_fault_hooks_from_another_thread() -> None:
    with SimulatorThread(seed=3) as sim:
        conn = SyncConn(sim.address)
        sim.stall(ProtoId.KEEP_ALIVE)
        serial = conn.send(ProtoId.KEEP_ALIVE, {"time": "1"})
        conn.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.receive()  # stalled
        conn.sock.settimeout(5)
        sim.unstall()
        assert conn.receive()[0] == serial

        sim.drop_after(ProtoId.GET_GLOBAL_STATE)
        conn.send(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        with pytest.raises(ConnectionError):
            conn.receive()  # processed, then the link dropped before the reply

        again = SyncConn(sim.address)
        assert sim.call(lambda s: s.connection_count) == 1
        sim.drop_connections()
        with pytest.raises(ConnectionError):
            again.receive()

        before = sim.call(lambda s: s.state.clock.now())
        sim.advance(3600)
        assert sim.call(lambda s: s.state.clock.now()) >= before + 3600


def test_many_threads_share_one_simulator() -> None:
    with SimulatorThread(seed=3) as sim:
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                conn = SyncConn(sim.address)
                for _ in range(20):
                    reply = conn.request(
                        ProtoId.QOT_GET_SECURITY_SNAPSHOT,
                        {"securityList": [{"market": 1, "code": "00700"}]},
                    )
                    assert reply["retType"] == 0
                conn.sock.close()
            except BaseException as exc:  # collected and re-raised in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors


def test_start_failure_is_raised_in_the_caller() -> None:
    with SimulatorThread(seed=1) as first:
        taken = first.address[1]
        with pytest.raises(OSError):
            SimulatorThread(port=taken).start()
