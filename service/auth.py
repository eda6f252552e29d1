"""Who may call the service: the API key check and the rule that binds it.

Owns: whether a host is loopback, refusing to serve any other host without ``PILOTQA_API_KEY`` (a ``ConfigError``
that says why), which paths need the key (the APIs and MCP; not ``/health`` or the OpenAPI pages), and comparing
an ``Authorization: Bearer`` header with the key in constant time; and, for a service bound to loopback, which
``Host`` headers it answers (its own names only: a page whose domain was re-pointed at 127.0.0.1, DNS rebinding,
is refused) and which ``Origin`` may change data (the service's own pages only: another site's page in a local
browser may not upload or delete); signing a passage page's link (an HMAC under a key derived from the API key)
so that the link opens that one passage without the key. Does not own: HTTP responses (``service.app``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from urllib.parse import urlsplit

from kb.errors import ConfigError
from kb.settings import Settings

PROTECTED = ("/v1", "/api", "/mcp")
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?")  # fullmatch
UNAUTHORIZED = "API 密钥缺失或错误：请在请求头中发送 Authorization: Bearer <PILOTQA_API_KEY 的值>。"


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, settings: Settings) -> None:
    """Serving on ``host`` is allowed: loopback, or any host with an API key set."""
    if loopback(host) or _key(settings):
        return
    raise ConfigError(
        f"拒绝在 {host} 上启动：绑定本机以外的地址时必须设置 API 密钥，否则网络上任何人都能查询和修改知识库。"
        "请设置环境变量 PILOTQA_API_KEY（客户端以 Authorization: Bearer <密钥> 访问），或改用 --host 127.0.0.1。"
    )


def protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED)


def allowed(settings: Settings, authorization: str | None) -> bool:
    """Whether a request with this Authorization header may pass (always, when no key is set)."""
    key = _key(settings)
    if not key:
        return True
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return hmac.compare_digest(token.strip().encode(), key.encode())


def passage_signature(settings: Settings, kb: str, doc_id: str, start: int, end: int) -> str:
    """The signature a passage page's link carries when a key is set ("" when none is): an HMAC of exactly that
    passage under a key derived from the API key, so the link opens that passage and nothing else."""
    key = _key(settings)
    if not key:
        return ""
    derived = hashlib.sha256(b"pilotqa passage link\0" + key.encode()).digest()
    return hmac.new(derived, f"{kb}\0{doc_id}\0{start}\0{end}".encode(), hashlib.sha256).hexdigest()[:32]


def passage_allowed(settings: Settings, kb: str, doc_id: str, start: int, end: int, signature: str,
                    authorization: str | None) -> bool:  # fmt: skip
    """Whether a passage page may be shown: always when no key is set (the service is on loopback), else to the
    key's holder or to a link signed for exactly this passage."""
    if allowed(settings, authorization):
        return True
    expected = passage_signature(settings, kb, doc_id, start, end)
    return hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode())


def _key(settings: Settings) -> str:
    """The API key, or "" when none is set; a key of only spaces is none (it would refuse no one who sends
    spaces, and a host off loopback would then be served without one)."""
    return settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""


def local_names(host: str) -> frozenset[str] | None:
    """The ``Host`` names a service bound to ``host`` answers: the loopback names and ``host`` itself when it is
    loopback; None (any) otherwise, where the key guards every route and a client's Host is its own business."""
    if not loopback(host):
        return None
    bound = host.lower()
    return frozenset((*LOCAL_NAMES, f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound))


def host_allowed(names: frozenset[str] | None, header: str | None) -> bool:
    """Whether a request with this ``Host`` header (a name, a port optional) is for this service."""
    if names is None:
        return True
    m = _HOST.fullmatch((header or "").strip().lower())
    return m is not None and m.group(1) in names


def origin_allowed(names: frozenset[str] | None, method: str, origin: str | None, host: str | None) -> bool:
    """Whether a request may change data given its ``Origin``: always for a read, a request without one (not
    sent by a browser's page) or a service not bound to loopback; otherwise only from the service's own pages
    (the origin's host and port are the request's ``Host``), so that no other site's page can post to it."""
    if names is None or method.upper() in SAFE_METHODS or origin is None:
        return True
    parts = urlsplit(origin.strip().lower())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == (host or "").strip().lower()
