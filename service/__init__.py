"""PilotQA as a service: ``pilotqa serve`` (OpenAI-compatible endpoint, JSON API, MCP at ``/mcp``) and ``pilotqa
mcp`` (MCP over stdio). An edge package beside the CLI and the UI: it uses the assistant, ingest and kb, and
nothing uses it but the command line."""
