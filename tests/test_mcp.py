"""The MCP server through the official SDK's own client: streamable HTTP at /mcp on the running service, and
`pilotqa mcp` over stdio. Lists the tools, asks, and checks the citations against `get_passage`."""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import ROOT, Service, service_env

pytestmark = pytest.mark.slow
TOOLS = {"ask", "search_passages", "list_documents", "get_passage", "search_facts"}
QUESTION = "齐鲁银行分散密钥线上身份认证服务项目有多少签约用户？"


async def session_checks(client: Client) -> dict[str, Any]:
    """What one session sees: the tools, an answer whose every citation the stored text confirms, the rest."""
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS
    answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
    assert answer and answer["grounded"] and "10.29万户" in answer["answer"]
    assert all("/" not in c["source"] for c in (*answer["citations"], *answer["related"]))  # the file's name only
    for c in answer["citations"]:
        stored = await client.call_tool("get_passage", {"doc_id": c["doc_id"], "start": c["start"], "end": c["end"]})
        assert stored.structured_content and stored.structured_content["text"] == c["quote"]
    docs = (await client.call_tool("list_documents", {})).structured_content
    assert docs and [d["doc_id"] for d in docs["documents"]] == [answer["citations"][0]["doc_id"]]
    found = (await client.call_tool("search_passages", {"query": "刷脸付受理终端", "k": 3})).structured_content
    assert found and "4821台" in found["passages"][0]["text"]
    facts = (await client.call_tool("search_facts", {"metric": "受理终端"})).structured_content
    assert facts and any(f["text"] == "4821台" for f in facts["facts"])
    bad = await client.call_tool("search_facts", {"since": "2021-13-01"})
    assert bad.is_error and "YYYY-MM-DD" in str(bad.content)  # a date checked as /api/facts checks it
    missing = await client.call_tool("get_passage", {"doc_id": "nosuch", "start": 0, "end": 5})
    assert missing.is_error and "nosuch" in str(missing.content)  # the message says what is missing
    return answer


def test_streamable_http_session_lists_tools_and_asks(service: Service) -> None:
    async def run() -> None:
        async with Client(service.url + "/mcp") as client:
            await session_checks(client)

    anyio.run(run)


def test_stdio_session(service: Service) -> None:
    """`pilotqa mcp` as an agent client starts it, over a copy of the knowledge base (one process per embedded
    Chroma)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "cli", "mcp"], env=service_env(service.spare),
                                   cwd=str(ROOT))  # fmt: skip

    async def run() -> None:
        async with Client(params, read_timeout_seconds=120) as client:
            await session_checks(client)

    anyio.run(run)
