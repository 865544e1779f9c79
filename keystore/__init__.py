"""keystore: API-key tokens, hashing, the keys.json store, policy checks and the usage ledger.

No MCP, Typer or network code here: both futucli and futu-mcp build on it.
"""
