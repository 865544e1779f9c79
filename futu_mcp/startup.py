"""What is checked before futu-mcp serves: the stdio key from `FUTU_MCP_API_KEY`, and the one
error that stops start-up (`StartupError`, one line for the user, exit 2).

This module does not import the MCP SDK, so `futu-mcp` starts the key's check before it
imports the SDK and runs it alongside that import (argon2 lets go of the GIL): the check costs
no start-up time, and its 19 MiB are freed early in the import, while the process is still
small, so they do not add to its peak memory (both measured goals, bench/bench_mcp.py). The
key's record is read again on every call (`StdioKey.current`), so a revocation made by another
process is seen on the next call. The token is kept only in memory, never logged or put in a
message.
"""

from dataclasses import dataclass

from keystore.errors import KeystoreError, Unauthorized
from keystore.records import KeyRecord
from keystore.verify import KeyVerifier

ENV_KEY = "FUTU_MCP_API_KEY"


class StartupError(Exception):
    """futu-mcp cannot serve: one line telling the user what to do (exit 2)."""


@dataclass(frozen=True)
class StdioKey:
    """The stdio session's key; re-verified on every call so a revocation takes effect."""

    _token: str

    def __repr__(self) -> str:
        return "StdioKey(<redacted>)"

    def current(self, verifier: KeyVerifier) -> KeyRecord:
        """The key's record as keys.json says now."""
        return verifier.verify(self._token)


def env_token(environ: dict[str, str]) -> str:
    """The stdio key from the environment; StartupError saying what to do if it is not set."""
    token = environ.get(ENV_KEY, "").strip()
    if not token:
        raise StartupError(
            f"{ENV_KEY} is not set: create a key with `futucli gen-key --id NAME --scopes qot:read` "
            f"and put it in the MCP client's env for futu-mcp (or use --http-listen with Bearer keys)"
        )
    return token


def stdio_key(verifier: KeyVerifier, token: str) -> tuple[StdioKey, KeyRecord]:
    """Check the stdio key before serving; raise StartupError saying what to do."""
    try:
        record = verifier.verify(token)
    except Unauthorized as exc:
        raise StartupError(
            f"{ENV_KEY} is not a valid key ({exc.reason}) for {verifier.keys_file}: check it was "
            f"copied whole, or create a new one with `futucli gen-key`"
        ) from None
    except KeystoreError as exc:
        raise StartupError(str(exc)) from None
    status = record.status()
    if status != "active":
        raise StartupError(
            f"the key {record.id} in {ENV_KEY} is {status}: create a new one with `futucli gen-key`"
        )
    return StdioKey(token), record
