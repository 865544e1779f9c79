"""Errors the OpenD client raises, one type per thing a caller can do something about.

Every one is an `OpenDError`, so a caller that only wants "the gateway said no" catches that;
`GatewayNotConnected`, `OutcomeUnknown` and `Throttled` are split out because the right reaction
differs (wait for the link, check the order list before retrying, retry later).
"""


class OpenDError(Exception):
    """OpenD answered with `retType != 0`; `str()` is OpenD's own message, shown to the user as is."""

    def __init__(
        self,
        message: str,
        *,
        ret_type: int = -1,
        err_code: int = 0,
        proto_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.ret_type = ret_type
        self.err_code = err_code
        self.proto_id = proto_id


class GatewayNotConnected(OpenDError):
    """The link to OpenD is down (or dropped while waiting); nothing was sent, or a read was lost."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"gateway not connected: {address} ({reason})", ret_type=-200)
        self.address = address
        self.reason = reason


def unreachable_advice(address: str, reason: str) -> str:
    """One line for a person whose OpenD cannot be reached: what was tried, why, what to check."""
    return (
        f"cannot reach OpenD at {address} ({reason}): is OpenD running and listening there? "
        f"--gateway sets the address"
    )


class OutcomeUnknown(OpenDError):
    """A place/modify was sent but no reply came back: it may or may not have happened.

    Never retried automatically; the caller must look at the order list first.
    """


class RequestTimeout(GatewayNotConnected):
    """A read request got no reply within the per-request timeout.

    To the caller OpenD is as good as gone (a frozen process with its socket open looks like
    this), so it reads as `gateway not connected: <host:port> (no reply within <n> s)`; the
    link itself is dropped only if it then misses a KeepAlive too.
    """

    def __init__(self, address: str, proto_id: int, timeout: float) -> None:
        super().__init__(address, f"no reply within {timeout:g} s")
        self.proto_id = proto_id
        self.timeout = timeout


class Throttled(OpenDError):
    """Sending now would break one of OpenD's documented rate limits; `.retry_after` seconds."""

    def __init__(self, what: str, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(f"throttled by OpenD rules, retry in {seconds} s ({what})")
        self.retry_after = retry_after


class SubscriptionQuotaExceeded(OpenDError):
    """A quote call needs more subscriptions than the quota allows, even after releasing idle ones."""


class ProtocolError(OpenDError):
    """OpenD's reply could not be understood (not JSON, or missing a required field)."""


class CryptoError(Exception):
    """A key cannot be loaded or a body cannot be decrypted (wrong key, corrupt data)."""
