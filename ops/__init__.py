"""One way into the core for every front end: the CLI, the app, the HTTP service and MCP ask, upload, delete,
look up facts and passages through ``ops.api`` on an ``ops.library.Library``."""
