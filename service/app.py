"""The HTTP service (FastAPI on Starlette): the OpenAI-compatible endpoint, the JSON API and MCP on one app.

Owns: the routes (``/v1/models``, ``/v1/chat/completions``, ``/api/ask``, ``/api/facts``, ``/api/documents``,
``/mcp``, ``/health``; the OpenAPI description at ``/docs``, a page whose script and style are the copies bundled in
the ``fastapi-offline`` wheel, served from here: nothing is fetched from the network), the guard every request
passes first (bound to loopback: the Host and a foreign Origin; the API key on the protected paths; the body size
limit, before anything is read), JSON bodies sent as JSON only (415 otherwise), errors as OpenAI-style JSON
bodies (never a traceback), running answers on the pool's workers (uploads and deletes on its writer thread) and
streaming them as server-sent events (a client that goes away stops its answer at the next step), and the app's
lifespan (resources
loaded before the first request, MCP's session manager running). Does not own: the work (``service.ops``), the
schema mapping (``service.openai_api``) or the key rule (``service.auth``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.loaders import TYPES
from kb.catalog import FactQuery
from kb.errors import (
    BusyError,
    ConfigError,
    DiskFullError,
    EndpointError,
    InputError,
    MissingKBError,
    NotFoundError,
    PilotQAError,
    RequestError,
    StoreError,
)
from kb.records import Answer, Progress
from kb.settings import Settings
from service import auth, mcp_server, openai_api, ops
from service.pool import Pool

log = logging.getLogger(__name__)
_END = object()
DOCS_STATIC = "/docs-static"  # where the documentation pages' bundled scripts and styles are served
STATUS: list[tuple[type[PilotQAError], int]] = [
    (RequestError, 400), (ConfigError, 400), (InputError, 400), (NotFoundError, 404), (MissingKBError, 404),
    (BusyError, 503), (DiskFullError, 507), (StoreError, 503), (EndpointError, 502),
]  # fmt: skip
CHAT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "example": "pilotqa", "description": openai_api.MODEL_HELP},
        "messages": {"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string"}, "content": {"type": "string"}}}},
        "stream": {"type": "boolean", "default": False},
        "sources_in_content": {"type": "boolean", "default": True, "description": "在内容末尾附上简短的来源列表"},
    }}}}}}  # fmt: skip
WRONG_HOST = ("请求的 Host“{host}”不是本服务的地址：绑定本机的服务只接受 127.0.0.1、localhost 或 [::1]（可带端口）。"
              "要从别的机器访问，请以 --host 0.0.0.0 启动并设置 PILOTQA_API_KEY。")  # fmt: skip
FOREIGN_ORIGIN = ("拒绝来自其他网站页面（Origin：{origin}）的请求：绑定本机的服务只接受它自己的页面（/docs）和"
                  "非浏览器客户端的提问、上传和删除。")  # fmt: skip
NOT_JSON = "请求体应是 JSON：请发送 Content-Type: application/json（收到的是“{kind}”）。"
ASK_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["question"],
    "properties": {"question": {"type": "string"}, "kb": {"type": "string"},
                   "mode": {"type": "string", "enum": list(ops.MODES)},
                   "history": {"type": "array", "items": {"type": "string"}}}}}}}}  # fmt: skip


class Guard:
    """Pure ASGI middleware every request passes first: when bound to loopback, a ``Host`` that is not this
    service's (421) and a foreign page's ``Origin`` on a request that is not a read (403); then the API key on
    protected paths (401); then the request body limit (413: a declared length over it is refused before reading;
    a body that grows past it while read, too, and whatever the route would have answered to it, MCP's plain text
    included, is replaced by the JSON error)."""

    def __init__(self, app: ASGIApp, settings: Settings, limit: int, host: str) -> None:
        self.app, self.settings, self.limit = app, settings, limit
        self.names = auth.local_names(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self._refused(scope, headers)
        if refused is not None:
            await refused(scope, receive, send)
            return
        seen, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                over = True
                raise HTTPException(413, self._too_large())
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
            await JSONResponse(openai_api.error(self._too_large(), 413), 413)(scope, receive, send)

    def _refused(self, scope: Scope, headers: dict[str, str]) -> JSONResponse | None:
        host, origin = headers.get("host"), headers.get("origin")
        if not auth.host_allowed(self.names, host):
            return JSONResponse(openai_api.error(WRONG_HOST.format(host=host or ""), 421, "invalid_host"), 421)
        if not auth.origin_allowed(self.names, scope["method"], origin, host):
            return JSONResponse(openai_api.error(FOREIGN_ORIGIN.format(origin=origin), 403, "foreign_origin"), 403)
        if auth.protected(scope["path"]) and not auth.allowed(self.settings, headers.get("authorization")):
            body = openai_api.error(auth.UNAUTHORIZED, 401, "invalid_api_key")
            return JSONResponse(body, 401, {"WWW-Authenticate": "Bearer"})
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return JSONResponse(openai_api.error(self._too_large(), 413), 413)
        return None

    def _too_large(self) -> str:
        return f"请求体超过 {self.settings.max_request_mb:g} MB 的上限：请分批上传，或调大 PILOTQA_MAX_REQUEST_MB。"


def _status(exc: PilotQAError) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def _errors(app: FastAPI) -> None:
    """Every error as an OpenAI-style JSON body; an unexpected one logged with its traceback, shown without."""

    @app.exception_handler(PilotQAError)
    async def known(_: Request, exc: PilotQAError) -> JSONResponse:
        return JSONResponse(openai_api.error(str(exc), _status(exc)), _status(exc))

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        message = "没有这个地址：可用的接口见 /docs。" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(openai_api.error(message, exc.status_code), exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        said = "；".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}：{e.get('msg', '')}" for e in exc.errors())
        return JSONResponse(openai_api.error(f"请求参数无效：{said}。参数说明见 /docs。", 400), 400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            openai_api.error("服务内部错误（已记入服务日志）：请稍后重试，或联系管理员查看日志。", 500), 500
        )


async def _json(request: Request) -> Any:
    """The request's JSON body; one sent as anything but JSON (a form, text/plain: what another site's page may
    send without asking) is refused with 415."""
    kind = request.headers.get("content-type", "")
    media = kind.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise HTTPException(415, NOT_JSON.format(kind=kind or "未注明"))
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(
            f"请求体不是合法的 JSON（{exc}）：请发送 Content-Type: application/json 的 JSON 对象。"
        ) from exc


def _sse(pool: Pool, req: openai_api.ChatRequest, cid: str, created: int) -> Callable[[], AsyncIterator[str]]:
    """The answer's steps as OpenAI stream chunks: the role, what a model reads (``reasoning_content``), the
    content, then the references on the last chunk before ``[DONE]``."""

    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        return f"data: {json.dumps(openai_api.chunk(req, cid, created, delta, finish), ensure_ascii=False)}\n\n"

    async def events() -> AsyncIterator[str]:
        loop, queue, stop = asyncio.get_running_loop(), asyncio.Queue[object](), threading.Event()

        def put(item: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                for item in ops.stream(pool, req.question, req.history, req.kb, req.mode, stop):
                    put(item)
            except Exception as exc:
                put(exc)
            finally:
                put(_END)

        pool.executor.submit(work)
        try:
            yield event({"role": "assistant", "content": ""})
            while (item := await queue.get()) is not _END:
                if isinstance(item, Progress):
                    yield event({"reasoning_content": item.message + "\n"})
                elif isinstance(item, Answer):
                    yield event({"content": openai_api.content(item, req.sources_in_content)})
                    yield event(openai_api.extras(item), "stop")
                elif isinstance(item, Exception):
                    if not isinstance(item, PilotQAError):
                        log.error("answer failed", exc_info=item)
                    message = str(item) if isinstance(item, PilotQAError) else "服务内部错误（已记入服务日志）。"
                    yield f"data: {json.dumps(openai_api.error(message, 500), ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            stop.set()

    return events


def create_app(settings: Settings, host: str = "127.0.0.1") -> FastAPI:
    """The service for ``settings``, to be served on ``host`` (which decides MCP's Host-header check)."""
    auth.check_host(host, settings)
    limit = int(settings.max_request_mb * 1e6)
    pool = Pool(settings)
    mcp_app, mcp_running = mcp_server.http_app(mcp_server.build(pool), host, limit)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.run(pool.warm)
        async with mcp_running():
            yield
        pool.close()

    app = FastAPI(title="PilotQA 试点问答", version="1", lifespan=lifespan, docs_url=None, redoc_url=None, description=(
        "OpenAI 兼容的问答接口（答案带引用，message.reference）、文档与事实的 JSON 接口、以及 MCP（/mcp）。"
        "除 /health 与本页外，设置了 PILOTQA_API_KEY 时需发送 Authorization: Bearer <密钥>。"))  # fmt: skip
    app.add_middleware(Guard, settings=settings, limit=limit, host=host)
    _errors(app)
    _docs(app)
    _openai_routes(app, pool)
    _api_routes(app, pool)
    app.add_route("/mcp", mcp_app, include_in_schema=False)
    return app


def _docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI 5 (which reads FastAPI's OpenAPI 3.1) on the copy of its script and style that the
    ``fastapi-offline`` wheel bundles (found by ``importlib.resources``; its code unused), with no favicon or
    validator badge from elsewhere: the page works without network and requests nothing off this server. No
    ``/redoc``: ReDoc always loads its logo from its vendor's CDN."""
    folder = Path(str(resources.files("fastapi_offline").joinpath("static")))
    app.mount(DOCS_STATIC, StaticFiles(directory=folder), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        at = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{at}{app.openapi_url}", title=f"{app.title} — 接口说明",
            swagger_js_url=f"{at}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{at}{DOCS_STATIC}/swagger-ui.css", swagger_favicon_url=f"{at}{DOCS_STATIC}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # its default badge is an image from swagger.io
        )  # fmt: skip


def _openai_routes(app: FastAPI, pool: Pool) -> None:
    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models", summary="可用的模型（知识库 × 答案方式）")
    async def models() -> JSONResponse:
        llm = (await pool.run(pool.assistant, None)).llm_available if pool.settings.kb in pool.known() else False
        return JSONResponse(openai_api.models(openai_api.model_names(pool.known(), pool.settings.kb, llm)))

    @app.post("/v1/chat/completions", summary="OpenAI 兼容的问答（引用在 message.reference）", openapi_extra=CHAT_BODY)
    async def chat_completions(request: Request) -> Any:
        req = openai_api.parse_chat(await _json(request))
        try:
            # an unknown knowledge base is a bad model name, said before any stream starts
            await pool.run(pool.assistant, req.kb)
        except MissingKBError as exc:
            raise RequestError(f"模型“{req.model}”指向的知识库不存在：{exc} {openai_api.MODEL_HELP}") from exc
        cid, created = openai_api.new_id()
        if req.stream:
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(_sse(pool, req, cid, created)(), media_type="text/event-stream", headers=headers)
        answer = await pool.run(ops.ask, pool, req.question, req.history, req.kb, req.mode)
        return JSONResponse(openai_api.completion(req, answer, cid, created))


def _api_routes(app: FastAPI, pool: Pool) -> None:
    @app.post("/api/ask", summary="提问：与 pilotqa ask --json 相同的对象", openapi_extra=ASK_BODY)
    async def ask(request: Request) -> JSONResponse:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("question"), str):
            raise RequestError('请发送 JSON 对象 {"question": "问题"}，可选 kb、mode、history（此前问过的问题）。')
        kb, mode, history = body.get("kb"), body.get("mode"), body.get("history")
        if not all(isinstance(x, str | None) for x in (kb, mode)):
            raise RequestError("kb 和 mode 应是字符串（知识库名、答案方式），或不填。")
        if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
            raise RequestError('history 应是此前问过的问题组成的字符串列表，如 ["第一个问题"]，或不填。')
        return JSONResponse(await pool.run(ops.ask_dict, pool, body["question"], history or [], kb, mode))

    @app.get("/api/facts", summary="事实登记表查询（同 pilotqa facts --json）")
    async def facts(query: str = "", subject: str = "", metric: str = "", since: str | None = None,
                    until: str | None = None, kb: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=ops.MAX_FACTS)] = 200) -> JSONResponse:  # fmt: skip
        found = FactQuery(subject=subject, metric=metric, text=query, since=since, until=until)
        return JSONResponse(await pool.run(ops.facts, pool, found, kb, limit))

    @app.get("/api/documents", summary="知识库中的文档")
    async def documents(kb: str | None = None) -> JSONResponse:
        return JSONResponse(await pool.run(ops.documents, pool, kb))

    @app.post("/api/documents", summary="上传文档（multipart，字段 files），每个文件一条结果")
    async def upload(files: Annotated[list[UploadFile], File(description=TYPES)],
                     kb: str | None = None) -> JSONResponse:  # fmt: skip
        data = [(f.filename or "upload", await f.read()) for f in files]
        result = await pool.run_write(ops.upload, pool, data, kb)
        return JSONResponse(result, 200 if result["ok"] else 422)

    @app.delete("/api/documents/{doc_id}", summary="删除一篇文档")
    async def delete(doc_id: str, kb: str | None = None) -> JSONResponse:
        return JSONResponse(await pool.run_write(ops.delete, pool, doc_id, kb))
