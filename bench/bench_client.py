"""Snapshot request latency and throughput: our asyncio client vs the official futu-api SDK.

All talk to the same simulated OpenD, which runs in its own process (so it does not share the
client's interpreter lock), on loopback, in the same run: our client in JSON, the SDK in JSON
and in its default protobuf format (which the simulator serves with the official schemas).
Prints p50/p99 latency with one request in flight, throughput with N in flight (16 by default;
the SDK gets N threads sharing one quote context), and our/SDK ratios for each SDK format.
Goal: >= 2x the SDK's throughput at 16 in flight, p50 no worse.

    .venv/bin/python bench/bench_client.py [--requests 2000] [--in-flight 16]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from opend.client import OpenDClient
from opend.codes import parse_code
from opend.throttle import QuoteThrottle

CODE = "HK.00700"
SIM_SCRIPT = """
import asyncio
from opend.sim import Simulator

async def main():
    async with Simulator(seed=1) as sim:
        print(sim.address[1], flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


def start_sim() -> tuple[subprocess.Popen[str], int]:
    """The simulator in a child process; returns it and its port."""
    proc = subprocess.Popen([sys.executable, "-c", SIM_SCRIPT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of the samples, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Result:
    """Latency samples (seconds) and a throughput figure for one client."""

    def __init__(
        self, name: str, latencies: list[float], throughput: float, cpu_per_request: float
    ) -> None:
        self.name = name
        self.cpu_ms = cpu_per_request * 1000
        self.p50 = percentile(latencies, 0.50) * 1000
        self.p99 = percentile(latencies, 0.99) * 1000
        self.mean = statistics.fmean(latencies) * 1000
        self.throughput = throughput

    def line(self) -> str:
        """One row of the report."""
        return (
            f"{self.name:<12} p50 {self.p50:7.3f} ms   p99 {self.p99:7.3f} ms   "
            f"mean {self.mean:7.3f} ms   throughput {self.throughput:7.0f} req/s   "
            f"client CPU {self.cpu_ms:6.3f} ms/req"
        )


async def bench_ours(port: int, requests: int, in_flight: int) -> Result:
    """Sequential latency, then `in_flight` concurrent workers sharing one connection."""
    code = [parse_code(CODE)]
    # Without the mirror of OpenD's 60 snapshots per 30 s (the simulator does not enforce them
    # unless asked): this measures the transport, as the SDK side does.
    async with OpenDClient("127.0.0.1", port, quote_throttle=QuoteThrottle(limits={})) as client:
        if not await client.wait_connected(10):
            raise SystemExit(f"our client could not connect: {client.last_error}")
        for _ in range(50):
            await client.get_market_snapshot(code)
        latencies = []
        for _ in range(requests // 2):
            start = time.perf_counter()
            await client.get_market_snapshot(code)
            latencies.append(time.perf_counter() - start)
        remaining = [requests]

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await client.get_market_snapshot(code)

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Result("ours json", latencies, requests / elapsed, cpu / requests)


def bench_sdk(port: int, requests: int, in_flight: int, fmt: str) -> Result:
    """The official SDK in `fmt` ("Json" or "Protobuf", its default): sequential latency, then
    `in_flight` threads."""
    # `import futu` writes logs under HOME and hooks SIGINT: give it a throwaway HOME.
    os.environ["HOME"] = tempfile.mkdtemp(prefix="futu-bench-home-")
    from futu import RET_OK, OpenQuoteContext, ProtoFMT, SysConfig

    SysConfig.set_proto_fmt(getattr(ProtoFMT, fmt))  # read when a context connects
    ctx = OpenQuoteContext(host="127.0.0.1", port=port)
    try:

        def one() -> None:
            ret, data = ctx.get_market_snapshot([CODE])
            if ret != RET_OK:
                raise RuntimeError(f"SDK snapshot failed: {data}")

        for _ in range(50):
            one()
        latencies = timed(one, requests // 2)
        lock = threading.Lock()
        remaining = [requests]

        def worker() -> None:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                one()

        start, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(in_flight) as pool:
            for future in [pool.submit(worker) for _ in range(in_flight)]:
                future.result()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        ctx.close()
    return Result(f"SDK {fmt.lower()}", latencies, requests / elapsed, cpu / requests)


def timed(call: Callable[[], None], n: int) -> list[float]:
    """Latencies of `n` sequential calls."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    """Run both clients against one simulator and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=16)
    args = parser.parse_args()
    proc, port = start_sim()
    try:
        ours = asyncio.run(bench_ours(port, args.requests, args.in_flight))
        sdks = [bench_sdk(port, args.requests, args.in_flight, fmt) for fmt in ("Json", "Protobuf")]
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"Qot_GetSecuritySnapshot ({CODE}) on loopback against opend.sim")
    print(
        f"latency: {args.requests // 2} sequential requests; throughput: "
        f"{args.requests} requests, {args.in_flight} in flight"
    )
    print(ours.line())
    for sdk in sdks:
        print(sdk.line())
    for sdk in sdks:
        print(
            f"ours/{sdk.name}: throughput {ours.throughput / sdk.throughput:.2f}x "
            f"(goal >= 2x), p50 latency {ours.p50 / sdk.p50:.2f}x (goal <= 1x), "
            f"p99 latency {ours.p99 / sdk.p99:.2f}x, client CPU per request "
            f"{ours.cpu_ms / sdk.cpu_ms:.2f}x"
        )
    os._exit(0)  # the SDK leaves non-daemon threads behind


if __name__ == "__main__":
    main()
