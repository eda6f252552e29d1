"""The HTTP service (FastAPI on Starlette): the OpenAI-compatible endpoint, the JSON API and MCP on one app.

Owns: the routes (``/v1/models``, ``/v1/chat/completions``, ``/v1/responses``, ``/api/ask``, ``/api/facts``,
``/api/documents`` and one document, a passage as JSON and as a page (``/passages/…``: signed links open it without
the key), ``/mcp``, ``/health``; the OpenAPI description at ``/docs``, a page whose script and style are the copies
bundled in the ``fastapi-offline`` wheel, served from here: nothing is fetched from the network), installing the
guard every request passes first (``service.guard``), JSON bodies sent as JSON only (415 otherwise) and read
safely (``service.body``), errors as OpenAI-style JSON bodies (never a traceback or a server path; 429 with
Retry-After when a lane is full; 507 for a full disk), running work on the pool's lanes (uploads and deletes on
its writer thread), and the app's lifespan (resources loaded before the first request, MCP's session manager
running). Does not own: answering a chat (``service.chat``), the work (``ops.api``), the schema mapping
(``service.openai_api``) or the key rule (``service.auth``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

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
    OverloadedError,
    PilotQAError,
    RequestError,
    StoreError,
    TooLongError,
)
from kb.settings import Settings
from ops import api as ops
from ops import limits
from service import auth, body, chat, mcp_server, openai_api, pages, responses_api, schema
from service.guard import Guard
from service.pool import Pool

log = logging.getLogger(__name__)
DOCS_STATIC = "/docs-static"  # where the documentation pages' bundled scripts and styles are served
STATUS: list[tuple[type[PilotQAError], int]] = [
    (TooLongError, 413), (RequestError, 400), (ConfigError, 400), (InputError, 400), (NotFoundError, 404),
    (MissingKBError, 404), (OverloadedError, 429), (BusyError, 503), (DiskFullError, 507), (StoreError, 503),
    (EndpointError, 502),
]  # fmt: skip
STREAMED = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
NO_PASSAGE = "此链接无效或已被改动：请从答案的引用重新打开原文（或带上 Authorization: Bearer <PILOTQA_API_KEY>）。"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
NOT_JSON = "请求体应是 JSON：请发送 Content-Type: application/json（收到的是“{kind}”）。"


def _status(exc: PilotQAError) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def _scrubbed(settings: Settings, message: str) -> str:
    """``message`` without the server's own folders (the data home, the cache): a client sees no server path."""
    for folder, name in ((settings.home, "<数据目录>"), (settings.cache_dir, "<缓存目录>")):
        for form in dict.fromkeys((str(folder.resolve()), str(folder.absolute()))):
            message = message.replace(form, name)
    return message


def _errors(app: FastAPI, settings: Settings) -> None:
    """Every error as an OpenAI-style JSON body, with no server path in it; a full queue's with Retry-After; an
    unexpected one logged with its traceback, shown without."""

    @app.exception_handler(PilotQAError)
    async def known(_: Request, exc: PilotQAError) -> JSONResponse:
        code = _status(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, OverloadedError) else None
        return JSONResponse(openai_api.error(_scrubbed(settings, str(exc)), code), code, headers)

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
    return body.parse(await request.body())


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
    _errors(app, settings)
    _docs(app)
    _openai_routes(app, pool)
    _api_routes(app, pool)
    _document_routes(app, pool)
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

    @app.post("/v1/chat/completions", summary="OpenAI 兼容的问答（引用在 message.annotations 与 message.reference）",
              openapi_extra=schema.CHAT_BODY)  # fmt: skip
    async def chat_completions(request: Request) -> Any:
        req = openai_api.parse_chat(await _json(request))
        try:
            # an unknown knowledge base is a bad model name, said before any stream starts
            await pool.run(pool.assistant, req.kb)
        except MissingKBError as exc:
            raise RequestError(f"模型“{req.model}”指向的知识库不存在：{exc} {openai_api.MODEL_HELP}") from exc
        cid, created = openai_api.new_id()
        chore = chat.chore(pool, req)
        if chore is not None:  # a client's title, tags or follow-ups: at once, no model
            if req.stream:
                events = chat.chore_events(pool, req, chore, cid, created)
                return StreamingResponse(events, media_type="text/event-stream", headers=STREAMED)
            return JSONResponse(chat.chore_reply(pool, req, chore, cid, created))
        limits.question(pool.settings, req.question, req.history)  # too long: 413 before any work
        link = pages.link_maker(pool.settings, str(request.base_url), pool.name(req.kb))
        if req.stream:
            events = chat.events(pool, req, chat.ChatFormat(req, cid, created, link))
            return StreamingResponse(events, media_type="text/event-stream", headers=STREAMED)
        done = await chat.complete(pool, req, cid, created, link, request.is_disconnected)
        return JSONResponse(done) if done is not None else Response(status_code=204)

    @app.post("/v1/responses", summary="OpenAI Responses API 的问答（引用为 output_text 的 annotations）",
              openapi_extra=schema.RESPONSES_BODY)  # fmt: skip
    async def responses(request: Request) -> Any:
        req = responses_api.parse(await _json(request))
        await pool.run(pool.assistant, req.kb)
        limits.question(pool.settings, req.question, req.history)
        link, created = pages.link_maker(pool.settings, str(request.base_url), pool.name(req.kb)), int(time.time())
        if req.stream:
            fmt = responses_api.ResponsesFormat(req, created, link)
            return StreamingResponse(chat.events(pool, req, fmt), media_type="text/event-stream", headers=STREAMED)
        done = await chat.answer(pool, req, request.is_disconnected)
        if done is None:
            return Response(status_code=204)
        return JSONResponse(responses_api.completed(req, done[0], *responses_api.new_ids(), created, link, done[1]))


def _api_routes(app: FastAPI, pool: Pool) -> None:
    @app.post("/api/ask", summary="提问：与 pilotqa ask --json 相同的对象", openapi_extra=schema.ASK_BODY)
    async def ask(request: Request) -> JSONResponse:
        sent = await _json(request)
        if not isinstance(sent, dict) or not isinstance(sent.get("question"), str):
            raise RequestError('请发送 JSON 对象 {"question": "问题"}，可选 kb、mode、history（此前问过的问题）。')
        kb, mode, history = sent.get("kb"), sent.get("mode"), sent.get("history")
        if not all(isinstance(x, str | None) for x in (kb, mode)):
            raise RequestError("kb 和 mode 应是字符串（知识库名、答案方式），或不填。")
        if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
            raise RequestError('history 应是此前问过的问题组成的字符串列表，如 ["第一个问题"]，或不填。')
        question, turns = limits.question(pool.settings, sent["question"], history or [])  # too long: 413 at once
        return JSONResponse(await pool.lane(mode).run(ops.ask_dict, pool, question, turns, kb, mode))

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


def _document_routes(app: FastAPI, pool: Pool) -> None:
    @app.get("/api/documents/{doc_id}", summary="一篇文档：目录信息、章节与全文（引用的位置都指向这段全文）")
    async def document(doc_id: str, kb: str | None = None) -> JSONResponse:
        return JSONResponse(await pool.run(ops.document, pool, doc_id, kb))

    @app.get("/api/documents/{doc_id}/passage", summary="文档 [start, end) 处的原文（同 MCP get_passage）")
    async def passage(doc_id: str, start: Annotated[int, Query(ge=0)], end: Annotated[int, Query(ge=1)],
                      kb: str | None = None) -> JSONResponse:  # fmt: skip
        return JSONResponse(await pool.run(ops.passage, pool, doc_id, start, end, kb))

    @app.get(pages.PATH + "/{kb}/{doc_id}", summary="引用原文页面（答案 annotations 中的链接）",
             response_class=HTMLResponse)  # fmt: skip
    async def passage_page(request: Request, kb: str, doc_id: str, start: Annotated[int, Query(ge=0)],
                           end: Annotated[int, Query(ge=1)], sig: str = "") -> HTMLResponse:  # fmt: skip
        if not auth.passage_allowed(pool.settings, kb, doc_id, start, end, sig, request.headers.get("authorization")):
            raise HTTPException(403, NO_PASSAGE)
        view = await pool.run(ops.passage_view, pool, doc_id, start, end, kb)
        headers = {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer"}  # fmt: skip
        return HTMLResponse(pages.page(view), headers=headers)
