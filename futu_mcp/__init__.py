"""futu-mcp: the MCP server that lets an LLM client use a Futu account through OpenD, safely."""
