"""The guard every request to the service passes first, as plain ASGI middleware (no web framework).

Owns: when bound to loopback, refusing a ``Host`` that is not the service's (421) and a foreign page's ``Origin``
on a request that is not a read (403); the API key on protected paths (401); the request body limit (413), and
these refusals as OpenAI-style JSON bodies. Does not own: the key rule (``service.auth``) or the routes
(``service.app``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kb.settings import Settings
from service import auth, openai_api

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Refusal = tuple[int, dict[str, Any], dict[str, str]]
WRONG_HOST = ("请求的 Host“{host}”不是本服务的地址：绑定本机的服务只接受 127.0.0.1、localhost 或 [::1]（可带端口）。"
              "要从别的机器访问，请以 --host 0.0.0.0 启动并设置 PILOTQA_API_KEY。")  # fmt: skip
FOREIGN_ORIGIN = ("拒绝来自其他网站页面（Origin：{origin}）的请求：绑定本机的服务只接受它自己的页面（/docs）和"
                  "非浏览器客户端的提问、上传和删除。")  # fmt: skip


class TooLarge(Exception):
    """The body being read grew past the limit."""


async def _json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """Pure ASGI middleware every request passes first: when bound to loopback, a ``Host`` that is not this
    service's (421) and a foreign page's ``Origin`` on a request that is not a read (403); then the API key on
    protected paths (401); then the request body limit (413: a declared length over it is refused before reading;
    a body that grows past it while read, too, and whatever the route would have answered to it, MCP's plain text
    included, is replaced by the JSON error)."""

    def __init__(self, app: App, settings: Settings, limit: int, host: str) -> None:
        self.app, self.settings, self.limit = app, settings, limit
        self.names = auth.local_names(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self._refused(scope, headers)
        if refused is not None:
            await _json(send, *refused)
            return
        seen, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                over = True
                raise TooLarge(self._too_large())
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the route's answer to a body over the limit: ours goes instead
            started = True
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _json(send, 413, openai_api.error(self._too_large(), 413))

    def _refused(self, scope: Scope, headers: dict[str, str]) -> Refusal | None:
        host, origin = headers.get("host"), headers.get("origin")
        if not auth.host_allowed(self.names, host):
            return 421, openai_api.error(WRONG_HOST.format(host=host or ""), 421, "invalid_host"), {}
        if not auth.origin_allowed(self.names, scope["method"], origin, host):
            return 403, openai_api.error(FOREIGN_ORIGIN.format(origin=origin), 403, "foreign_origin"), {}
        if auth.protected(scope["path"]) and not auth.allowed(self.settings, headers.get("authorization")):
            return 401, openai_api.error(auth.UNAUTHORIZED, 401, "invalid_api_key"), {"WWW-Authenticate": "Bearer"}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return 413, openai_api.error(self._too_large(), 413), {}
        return None

    def _too_large(self) -> str:
        return f"请求体超过 {self.settings.max_request_mb:g} MB 的上限：请分批上传，或调大 PILOTQA_MAX_REQUEST_MB。"
