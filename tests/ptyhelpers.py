"""Reading a child process's pseudo-terminal: the prompts tests type at, with a deadline.

Shared by the tests that run futucli on a pty (a hidden password or key prompt needs a real
terminal), so a hung prompt fails the test at its deadline instead of hanging the suite.
"""

import os
import select
import signal
import time


def read_until(fd: int, needle: bytes, deadline: float) -> bytes:
    """What the terminal showed up to and including `needle`; fails if it never comes."""
    data = b""
    while needle not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} never came; got {data!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"{needle!r} never came; got {data!r}")
        data += chunk
    return data


def read_to_end(fd: int, deadline: float) -> bytes:
    """Everything the terminal shows until the child closes it (or the deadline passes)."""
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def reap(pid: int, deadline: float) -> int:
    """The child's wait status; killed if it is still running at the deadline (a hung prompt)."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]
