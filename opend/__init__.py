"""opend: an asyncio client for the Futu OpenD wire protocol, and `opend.sim`, a simulated OpenD.

Knows nothing of keys, MCP or the CLI.
"""
