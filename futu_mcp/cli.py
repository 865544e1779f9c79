"""The `futu-mcp` command line.

argparse rather than Typer: the server's start-up time is measured against a bare MCP server,
and stdio clients spawn it for every session, so it imports nothing it does not need.
"""

import argparse
from importlib.metadata import version


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; also the source of the man page."""
    parser = argparse.ArgumentParser(
        prog="futu-mcp",
        description="MCP server for Futu OpenD: quotes, account and trading tools behind scoped API keys.",
    )
    parser.add_argument("--version", action="version", version=f"futu-mcp {version('futu-mcp')}")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    build_parser().parse_args(argv)
