"""Who may call the service: the API key check and the rule that binds it.

Owns: whether a host is loopback, refusing to serve any other host without ``PILOTQA_API_KEY`` (a ``ConfigError``
that says why), which paths need the key (the APIs and MCP; not ``/health`` or the OpenAPI pages), and comparing
an ``Authorization: Bearer`` header with the key in constant time. Does not own: HTTP responses
(``service.app``).
"""

from __future__ import annotations

import hmac
import ipaddress

from kb.errors import ConfigError
from kb.settings import Settings

PROTECTED = ("/v1", "/api", "/mcp")
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
    if loopback(host) or (settings.api_key is not None and settings.api_key.get_secret_value()):
        return
    raise ConfigError(
        f"拒绝在 {host} 上启动：绑定本机以外的地址时必须设置 API 密钥，否则网络上任何人都能查询和修改知识库。"
        "请设置环境变量 PILOTQA_API_KEY（客户端以 Authorization: Bearer <密钥> 访问），或改用 --host 127.0.0.1。"
    )


def protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED)


def allowed(settings: Settings, authorization: str | None) -> bool:
    """Whether a request with this Authorization header may pass (always, when no key is set)."""
    if settings.api_key is None or not settings.api_key.get_secret_value():
        return True
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return hmac.compare_digest(token.strip().encode(), settings.api_key.get_secret_value().encode())
