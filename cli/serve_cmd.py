"""``pilotqa serve [--host 127.0.0.1] [--port 8000]`` and ``pilotqa mcp``.

Owns: the two commands' arguments, refusing a host other than loopback without an API key before anything loads,
and running the service on uvicorn (bound where asked; its access log off) or the MCP tools over stdio. Does not
own: the service itself (``service``).
"""

from __future__ import annotations

import argparse
import sys

from kb.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="启动服务：OpenAI 兼容接口、JSON 接口和 MCP（/mcp）")
    serve.add_argument(
        "--host", default="127.0.0.1", help="绑定的地址（默认 127.0.0.1；其他地址须设置 PILOTQA_API_KEY）"
    )
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.set_defaults(func=run_serve)
    mcp = sub.add_parser("mcp", help="以 stdio 提供 MCP 工具（供智能体客户端启动）")
    mcp.add_argument("--kb", help="默认知识库名称")
    mcp.set_defaults(func=run_mcp)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth import check_host

    check_host(args.host, settings)  # before anything loads: say why at once
    import uvicorn

    from service.app import create_app

    app = create_app(settings, args.host)
    print(f"PilotQA 服务：http://{args.host}:{args.port}/v1（接口说明 /docs，MCP /mcp）", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower(), access_log=False)
    return 0


def run_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from service.mcp_server import run_stdio
    from service.pool import Pool

    run_stdio(Pool(settings))  # stdout is the protocol: everything else goes to stderr
    return 0
