"""Several replicas: what the Redis ledger costs an order, and what a second replica buys.

1. Order admission (the policy check with its check-and-reserve, as the trade path runs it):
   p50/p99 with the Redis ledger against the SQLite ledger, in alternating rounds of the same run.
2. HTTP calls/s (futu_get_quote, stateless, against one simulated OpenD): one replica against
   two, both behind the same asyncio round-robin balancer (bench/roundrobin.py), so the only
   difference is the second replica.

    .venv/bin/python bench/bench_replicas.py [--quick]

Needs redis-server (apt-get install redis-server). Everything runs on 127.0.0.1 with ports
chosen at run time, in a temporary folder; Redis with persistence off (as in the tests).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_mcp import FUTU_MCP, open_sessions, start_http, throughput  # noqa: E402
from roundrobin import RoundRobinProxy  # noqa: E402

from keystore.ledger import Ledger, SqliteLedger  # noqa: E402
from keystore.ledger_redis import RedisLedger  # noqa: E402
from keystore.policy import Request, authorize  # noqa: E402
from keystore.records import KeyRecord  # noqa: E402
from tests.keystore.ledger_worker import shared_key  # noqa: E402
from tests.redisserver import RedisServer  # noqa: E402

QUOTE = ("futu_get_quote", {"codes": "HK.00700"})


def admission_samples(ledger: Ledger, key: KeyRecord, n: int) -> list[float]:
    """Seconds of each of `n` admissions (place order, rate and daily caps, reserved)."""
    request = Request(
        scope="trade:simulate", kind="place", market="HK", value=Decimal(10), currency="HKD"
    )
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        decision = authorize(key, request, ledger=ledger)
        samples.append(time.perf_counter() - start)
        assert decision.allowed, decision
    return samples


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) in milliseconds."""
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000


def admission(folder: Path, redis_url: str, rounds: int, per_round: int) -> None:
    """Alternating rounds (SQLite, Redis, Redis, SQLite, ...) so load changes hit both."""
    # Caps high enough never to refuse: every admission does the whole check and reserve.
    key = shared_key(10**9, Decimal(10**12))
    ledgers: dict[str, Ledger] = {
        "sqlite": SqliteLedger(folder / "ledger.sqlite"),
        "redis": RedisLedger(redis_url),
    }
    samples: dict[str, list[float]] = {name: [] for name in ledgers}
    for ledger in ledgers.values():
        admission_samples(ledger, key, 50)  # warm: files, connections, script cache
    order = list(ledgers)
    for _ in range(rounds):
        for name in order:
            samples[name] += admission_samples(ledgers[name], key, per_round)
        order.reverse()
    for name in ("sqlite", "redis"):
        got = samples[name]
        print(
            f"order admission, {name:6} ledger: p50 {percentile(got, 50):6.3f} ms  "
            f"p99 {percentile(got, 99):6.3f} ms  ({len(got)} orders)"
        )
    ratio = percentile(samples["redis"], 50) / percentile(samples["sqlite"], 50)
    print(f"order admission, redis/sqlite p50 ratio: {ratio:.2f}")


async def calls_per_second(replicas: list[str], token: str, workers: int, seconds: float) -> float:
    """Calls/s through a round-robin balancer in front of `replicas` (their /mcp URLs)."""
    upstreams = []
    for url in replicas:
        host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
        upstreams.append((host, int(port)))
    proxy = RoundRobinProxy(upstreams)
    await proxy.start()
    try:
        async with AsyncExitStack() as stack:
            url = f"http://127.0.0.1:{proxy.port}/mcp"
            clients = await open_sessions(stack, url, [token] * workers, *QUOTE)
            return await throughput(clients, *QUOTE, workers, seconds)
    finally:
        await proxy.close()


def http_scaling(folder: Path, redis_url: str, rounds: int, seconds: float, workers: int) -> None:
    """One replica against two, alternating, each behind the same balancer."""
    from keystore.issuing import issue_key
    from keystore.records import Limits
    from keystore.store import KeyStore
    from opend.sim import SimulatorThread

    keys_file = folder / "keys.json"
    token, _ = issue_key(
        KeyStore(keys_file), key_id="bench", scopes=frozenset({"qot:read"}), limits=Limits()
    )
    env = {**os.environ, "FUTU_KEYS_FILE": str(keys_file), "HOME": str(folder)}
    with SimulatorThread(seed=1) as sim:
        host, port = sim.address
        procs, urls = [], []
        for name in ("r1", "r2"):
            cmd = [
                FUTU_MCP,
                "--http-listen",
                "127.0.0.1:0",
                "--stateless",
                "--gateway",
                f"{host}:{port}",
                "--ledger",
                redis_url,
                "--replica-id",
                name,
            ]
            proc, url = start_http(cmd, env)
            procs.append(proc)
            urls.append(url)
        try:
            results: dict[int, list[float]] = {1: [], 2: []}
            order = [1, 2]
            for _ in range(rounds):
                for count in order:
                    results[count].append(
                        anyio.run(calls_per_second, urls[:count], token, workers, seconds)
                    )
                order.reverse()
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    one, two = statistics.median(results[1]), statistics.median(results[2])
    print(f"HTTP calls/s, 1 replica behind the balancer:  {one:7.0f}  (rounds {_fmt(results[1])})")
    print(f"HTTP calls/s, 2 replicas behind the balancer: {two:7.0f}  (rounds {_fmt(results[2])})")
    print(f"HTTP calls/s, 2/1 ratio: {two / one:.2f} on {os.cpu_count()} CPUs, {workers} callers")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="futu-bench-replicas-") as tmp:
        folder = Path(tmp)
        redis = RedisServer(folder)
        redis.start()
        try:
            admission(folder, redis.url, rounds=2 if args.quick else 6, per_round=500)
            http_scaling(
                folder,
                redis.url,
                rounds=1 if args.quick else 3,
                seconds=2.0 if args.quick else 5.0,
                workers=8,
            )
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
