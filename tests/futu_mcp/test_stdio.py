"""The stdio transport without threads: real processes on real pipes, driven by raw JSON-RPC.

A small MCPServer whose tool writes stray text to stdout (print and the raw fd) and returns a
reply bigger than a pipe's buffer is served by `serve_stdio`; the wire must carry nothing but
protocol, whole, every line gets an answer (an error for one that is not a usable message), and
the process must give fd 0/1 back when the client goes away.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

SERVER = textwrap.dedent(
    """
    import os, sys

    import anyio
    from mcp.server.mcpserver import MCPServer

    import futu_mcp.stdio
    from futu_mcp.stdio import serve_stdio

    futu_mcp.stdio.MAX_LINE_BYTES = int(os.environ.get("MAX_LINE", futu_mcp.stdio.MAX_LINE_BYTES))

    mcp = MCPServer("noisy")


    @mcp.tool()
    async def noisy(size: int) -> str:
        \"\"\"Writes stray text to stdout, then returns `size` characters.\"\"\"
        print("STRAY-PRINT", flush=True)
        os.write(1, b"STRAY-FD\\n")
        return "x" * size


    anyio.run(serve_stdio, mcp)
    os.write(1, b"AFTER\\n")
    """
)

BIG = 300_000  # several times a pipe's 64 KiB buffer: the reply must wait for the reader
DEADLINE = 20.0


def line(msg_id: int | None, method: str, params: dict[str, Any] | None = None) -> bytes:
    """One JSON-RPC message as a line."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    if msg_id is not None:
        msg["id"] = msg_id
    return (json.dumps(msg) + "\n").encode()


INIT = line(
    1,
    "initialize",
    {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
)
CALL = line(2, "tools/call", {"name": "noisy", "arguments": {"size": BIG}})


@contextmanager
def served(
    tmp_path: Path, stdout: int | IO[bytes], **env: str
) -> Iterator["subprocess.Popen[bytes]"]:
    """The test server as a process with stdin and stderr pipes; killed and reaped on the way
    out, whatever the test asserted."""
    script = tmp_path / "noisy_server.py"
    script.write_text(SERVER)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]


def read_reply(stream: IO[bytes], msg_id: int) -> dict[str, Any]:
    """Lines until the reply to `msg_id`; every line on the wire must be JSON-RPC."""
    while True:
        raw = stream.readline()
        assert raw, "server closed stdout before replying"
        msg = json.loads(raw)
        assert msg["jsonrpc"] == "2.0"
        if msg.get("id") == msg_id:
            return msg


def test_pipes_carry_only_protocol_and_big_replies_whole(tmp_path: Path) -> None:
    with served(tmp_path, subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(INIT)
        proc.stdin.flush()
        assert read_reply(proc.stdout, 1)["result"]["serverInfo"]["name"] == "noisy"
        proc.stdin.write(line(None, "notifications/initialized"))
        # One request in two writes: a line is read whole however it arrives.
        proc.stdin.write(CALL[:20])
        proc.stdin.flush()
        proc.stdin.write(CALL[20:])
        proc.stdin.flush()
        reply = read_reply(proc.stdout, 2)
        assert reply["result"]["structuredContent"] == {"result": "x" * BIG}
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0
        # fd 1 is the wire again after serving (and blocking: the write did not fail).
        assert proc.stdout.read() == b"AFTER\n"
        err = proc.stderr.read().decode()
    assert "STRAY-PRINT" in err and "STRAY-FD" in err


def test_concurrent_big_replies_each_reach_the_wire_whole(tmp_path: Path) -> None:
    """Replies are written by the tasks that answer (no single writer task): two replies
    bigger than the pipe, written at once while the client is not yet reading, stay whole."""
    with served(tmp_path, subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(INIT)
        proc.stdin.flush()
        read_reply(proc.stdout, 1)
        proc.stdin.write(line(None, "notifications/initialized"))
        for msg_id, size in ((2, BIG), (3, BIG + 1)):
            proc.stdin.write(
                line(msg_id, "tools/call", {"name": "noisy", "arguments": {"size": size}})
            )
        proc.stdin.flush()
        sizes = {}
        for _ in range(2):
            msg = json.loads(proc.stdout.readline())
            sizes[msg["id"]] = len(msg["result"]["structuredContent"]["result"])
        assert sizes == {2: BIG, 3: BIG + 1}
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0


def test_a_stdout_that_is_not_a_pipe_is_served_by_threads(tmp_path: Path) -> None:
    out_path = tmp_path / "wire.jsonl"
    with out_path.open("wb") as out, served(tmp_path, out) as proc:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(b"not json\n" + INIT)
        proc.stdin.flush()
        deadline = time.monotonic() + DEADLINE
        replies: list[dict[str, Any]] = []
        while len(replies) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling the file for the reply, with a deadline
            replies = [
                json.loads(raw) for raw in out_path.read_bytes().splitlines() if b'"id"' in raw
            ]
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0
    assert replies[0] == {"jsonrpc": "2.0", "id": None, "error": replies[0]["error"]}
    assert replies[0]["error"]["code"] == -32700
    assert replies[1]["id"] == 1 and "result" in replies[1]
    lines = out_path.read_bytes().splitlines()
    assert all(json.loads(raw)["jsonrpc"] == "2.0" for raw in lines[:-1])
    assert lines[-1] == b"AFTER"


def test_every_unusable_line_gets_an_error_reply_and_serving_goes_on(tmp_path: Path) -> None:
    bad = [
        (b"this is not json\n", None, -32700, "Parse error: not JSON"),
        (b'{"jsonrpc": "2.0", "id": 7, "method": \n', None, -32700, "Parse error"),
        (b'{"id": 5, "hello": "world"}\n', 5, -32600, "not a JSON-RPC 2.0 message"),
        (b'{"jsonrpc": "2.0", "id": true, "method": 3}\n', None, -32600, "not a JSON-RPC"),
        (b"[1, 2, 3]\n", None, -32600, "not a JSON-RPC 2.0 message"),
        (b'"just a string"\n', None, -32600, "not a JSON-RPC 2.0 message"),
        (b"\xff\xfe\n", None, -32700, "Parse error"),
        # Over the limit, in one piece and in pieces: one reply each, the rest is skipped.
        (
            b'{"jsonrpc": "2.0", "id": 9, "method": "' + b"x" * 5000 + b'"}\n',
            None,
            -32600,
            "line longer than 1024 bytes",
        ),
    ]
    with served(tmp_path, subprocess.PIPE, MAX_LINE="1024") as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(INIT)
        proc.stdin.flush()
        read_reply(proc.stdout, 1)
        proc.stdin.write(line(None, "notifications/initialized") + b"\n\r\n")  # blank: ignored
        for sent, msg_id, code, says in bad:
            proc.stdin.write(sent)
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
            assert reply["id"] == msg_id and reply["error"]["code"] == code, (sent, reply)
            assert says in reply["error"]["message"]
        for piece in (b'{"id": 4, "x": "' + b"y" * 1000, b"y" * 1000, b"y" * 1000 + b'"}\n'):
            proc.stdin.write(piece)
            proc.stdin.flush()
        assert "line longer than" in json.loads(proc.stdout.readline())["error"]["message"]
        small = line(3, "tools/call", {"name": "noisy", "arguments": {"size": 3}})
        proc.stdin.write(small)
        proc.stdin.flush()
        assert read_reply(proc.stdout, 3)["result"]["structuredContent"] == {"result": "xxx"}
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0


ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def enveloped(msg_id: int, method: str, params: dict[str, Any] | None = None) -> bytes:
    """A 2026-07-28 request: its protocol version, client and capabilities in `_meta`."""
    return line(msg_id, method, {**(params or {}), "_meta": ENVELOPE})


def test_a_handshake_connection_refuses_requests_of_the_2026_era(tmp_path: Path) -> None:
    """The first request picks the era (here `initialize`, after a notification that is kept
    for the serving loop); a later enveloped request is refused as the SDK's dual-era loop
    refuses it, and serving goes on."""
    with served(tmp_path, subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line(None, "notifications/cancelled", {"requestId": 99}) + INIT)
        proc.stdin.flush()
        assert read_reply(proc.stdout, 1)["result"]["serverInfo"]["name"] == "noisy"
        proc.stdin.write(line(None, "notifications/initialized") + enveloped(2, "tools/list"))
        proc.stdin.flush()
        refused = read_reply(proc.stdout, 2)["error"]
        assert refused["code"] == -32600 and "handshake protocol era" in refused["message"]
        proc.stdin.write(line(3, "tools/call", {"name": "noisy", "arguments": {"size": 2}}))
        proc.stdin.flush()
        assert read_reply(proc.stdout, 3)["result"]["structuredContent"] == {"result": "xx"}
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0


def test_a_2026_connection_is_served_without_the_handshake(tmp_path: Path) -> None:
    """An enveloped first request opens a 2026-07-28 connection: its requests are answered
    with no `initialize`, and an `initialize` on it is refused."""
    with served(tmp_path, subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(enveloped(1, "tools/list"))
        proc.stdin.flush()
        tools = read_reply(proc.stdout, 1)["result"]["tools"]
        assert [t["name"] for t in tools] == ["noisy"]
        proc.stdin.write(enveloped(2, "tools/call", {"name": "noisy", "arguments": {"size": 4}}))
        proc.stdin.flush()
        assert read_reply(proc.stdout, 2)["result"]["structuredContent"] == {"result": "xxxx"}
        proc.stdin.write(INIT)
        proc.stdin.flush()
        assert read_reply(proc.stdout, 1)["error"]["code"] == -32022
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0


def test_a_client_that_leaves_before_any_request_ends_the_server(tmp_path: Path) -> None:
    with served(tmp_path, subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line(None, "notifications/initialized"))
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0
        assert proc.stdout.read() == b"AFTER\n"
