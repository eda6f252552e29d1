"""A cited passage as a page of its own, and the link to it that an answer's citation carries.

Owns: the passage page's URL (``/passages/<kb>/<doc_id>?start=…&end=…``, signed when the service has an API key:
``service.auth``), built on ``PILOTQA_PUBLIC_URL`` or the address the request was sent to; and the page itself:
the document's title, date and section, and the quoted sentence highlighted in its paragraph. Every text on the
page comes from documents or requests and is escaped: nothing in a document can become markup or script, and the
page loads nothing from anywhere (its style is inline; a Content-Security-Policy in ``service.app`` says so to the
browser). Does not own: finding the passage (``ops.api``) or HTTP (``service.app``).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from kb.records import Citation
from kb.settings import Settings
from service import auth
from service.openai_api import Link

PATH = "/passages"
STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:46em;margin:2em auto;padding:0 1em;"
    "line-height:1.8;color:#222}h1{font-size:1.3em}.meta{color:#666;font-size:.9em}"
    "blockquote{border-left:4px solid #ccc;margin:1em 0;padding:.2em 1em;white-space:pre-wrap}"
    "mark{background:#ffe58a;padding:0 .1em}"
)


def link_maker(settings: Settings, base_url: str, kb: str) -> Link:
    """How each citation of an answer from knowledge base ``kb`` links to its passage page."""
    base = (settings.public_url or base_url).rstrip("/")

    def link(c: Citation) -> str:
        query = {"start": c.start, "end": c.end}
        signature = auth.passage_signature(settings, kb, c.doc_id, c.start, c.end)
        if signature:
            query["sig"] = signature  # type: ignore[assignment]
        return f"{base}{PATH}/{quote(kb, safe='')}/{quote(c.doc_id, safe='')}?{urlencode(query)}"

    return link


def page(view: dict[str, Any]) -> str:
    """The HTML page of a passage (``ops.api.passage_view``'s fields), everything escaped."""
    meta = "，".join(x for x in (view.get("date") or "", view["section"], _page(view["page"])) if x)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(view['title'])} — 引用原文</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(view['title'])}</h1>"
        f'<p class="meta">{escape(meta)}</p>'
        f"<blockquote>{escape(view['before'])}<mark>{escape(view['quote'])}</mark>{escape(view['after'])}</blockquote>"
        f'<p class="meta">知识库 {escape(view["kb"])} · 文档 {escape(view["doc_id"])} · '
        f"位置 {int(view['start'])}–{int(view['end'])}</p></body></html>"
    )


def _page(page: int | None) -> str:
    return f"第 {page} 页" if page else ""
