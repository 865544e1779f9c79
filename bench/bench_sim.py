"""How many snapshot requests per second the simulator serves on loopback, 16 in flight.

The simulator runs as `futucli sim` in its own process (as in the end-to-end tests); this
process is a minimal pipelining client on raw framing. The baseline is KeepAlive, the cheapest
request there is, measured on the same connection in the same run: the ratio shows what the
snapshot handler costs beyond framing and the event loop. Goal: >= 5,000 snapshots/s, so the
simulator is never the bottleneck of another benchmark. Every reply is checked for success, in
JSON and in protobuf alike: a fast stream of error replies is not a result.

    .venv/bin/python bench/bench_sim.py [--seconds 3] [--in-flight 16]
"""

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from opend.framing import FrameDecoder, ProtoFmt, encode_frame
from opend.protoids import ProtoId

GOAL = 5000.0
BANNER = re.compile(r"listening on ([\d.]+):(\d+)")


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    init = json.dumps(
        {"c2s": {"clientVer": 300, "clientID": "bench", "packetEncAlgo": -1}}
    ).encode()
    writer.write(encode_frame(ProtoId.INIT_CONNECT, 1, init, ProtoFmt.JSON))
    decoder = FrameDecoder()
    while not decoder.feed(await reader.read(65536)):
        pass
    return reader, writer


def _body(proto_id: int, fmt: int) -> bytes:
    if proto_id == ProtoId.KEEP_ALIVE:
        c2s = {"time": str(int(time.time()))}
    else:
        c2s = {"securityList": [{"market": 1, "code": "00700"}]}
    if fmt == ProtoFmt.JSON:
        return json.dumps({"c2s": c2s}).encode()
    from google.protobuf import json_format

    from opend.pbschema import pb_module

    message = pb_module(proto_id).Request()
    json_format.ParseDict({"c2s": c2s}, message)
    return message.SerializeToString()


# A protobuf Response starts with field 1, retType (int32, required), and the official encoder
# writes fields in number order: success is the tag 0x08 then the varint 0. Any other first two
# bytes (a negative retType is ten varint bytes) is an error or not a Response.
PB_SUCCESS = b"\x08\x00"


def succeeded(body: bytes, fmt: int) -> bool:
    """True when a reply body says retType 0, read without decoding the whole message."""
    if fmt == ProtoFmt.JSON:
        return b'"retType":0' in body[:40]
    return body[:2] == PB_SUCCESS


def check_decoder(host: str, port: int) -> None:
    """`succeeded` agrees with the official schema on a real success and a real error reply,
    so the fast check above cannot pass error replies unnoticed."""
    from opend.pbschema import pb_module

    async def replies() -> list[bytes]:
        reader, writer = await _open(host, port)
        good = _body(ProtoId.QOT_GET_SECURITY_SNAPSHOT, ProtoFmt.PROTOBUF)
        writer.write(encode_frame(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 2, good, ProtoFmt.PROTOBUF))
        writer.write(encode_frame(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 3, b"\xff", ProtoFmt.PROTOBUF))
        decoder, frames = FrameDecoder(), []
        while len(frames) < 2:
            frames += decoder.feed(await reader.read(1 << 20))
        writer.close()
        return [f.body for f in sorted(frames, key=lambda f: f.serial)]

    good, bad = asyncio.run(replies())
    response = pb_module(ProtoId.QOT_GET_SECURITY_SNAPSHOT).Response
    for body, ok in ((good, True), (bad, False)):
        message = response()
        message.ParseFromString(body)
        if (message.retType == 0) != ok or succeeded(body, ProtoFmt.PROTOBUF) != ok:
            raise SystemExit(f"protobuf success check disagrees with the schema: {message}")


async def measure(
    host: str, port: int, proto_id: int, fmt: int, seconds: float, in_flight: int
) -> float:
    """Requests per second with `in_flight` requests outstanding on one connection."""
    reader, writer = await _open(host, port)
    body = _body(proto_id, fmt)
    decoder = FrameDecoder()
    serial = 10
    outstanding = 0
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while True:
        while outstanding < in_flight and time.perf_counter() < deadline:
            serial += 1
            writer.write(encode_frame(proto_id, serial, body, fmt))
            outstanding += 1
        if outstanding == 0:
            break
        data = await reader.read(1 << 20)
        if not data:  # e.g. protobuf asked of a simulator without the official schemas
            raise SystemExit(f"the simulator closed the connection after {done} replies")
        for frame in decoder.feed(data):
            outstanding -= 1
            done += 1
            if not succeeded(frame.body, fmt):
                failures += 1
    elapsed = time.perf_counter() - started
    writer.close()
    if failures:
        raise SystemExit(f"{failures} of {done} replies were errors")
    return done / elapsed


def main() -> None:
    """Start the simulator process, measure, print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--in-flight", type=int, default=16)
    args = parser.parse_args()
    futucli = Path(sys.executable).parent / "futucli"
    proc = subprocess.Popen(
        [str(futucli), "sim", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        match = BANNER.search(proc.stdout.readline())
        if not match:
            raise SystemExit("the simulator did not start")
        host, port = match.group(1), int(match.group(2))
        check_decoder(host, port)
        runs = [
            ("keepalive json (baseline)", ProtoId.KEEP_ALIVE, ProtoFmt.JSON),
            ("snapshot json", ProtoId.QOT_GET_SECURITY_SNAPSHOT, ProtoFmt.JSON),
            ("snapshot protobuf", ProtoId.QOT_GET_SECURITY_SNAPSHOT, ProtoFmt.PROTOBUF),
        ]
        rates = {}
        for name, proto_id, fmt in runs:
            rates[name] = asyncio.run(
                measure(host, port, proto_id, fmt, args.seconds, args.in_flight)
            )
        baseline = rates["keepalive json (baseline)"]
        print(f"in flight: {args.in_flight}, {args.seconds:g} s per run")
        for name, rate in rates.items():
            print(f"{name:28s} {rate:9.0f} req/s   ratio to baseline {rate / baseline:5.2f}")
        best = rates["snapshot json"]
        verdict = "meets" if best >= GOAL else "MISSES"
        print(f"snapshot json {best:.0f}/s {verdict} the goal of {GOAL:.0f}/s ({best / GOAL:.2f}x)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
