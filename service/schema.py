"""The request bodies ``/docs`` describes for the routes that read JSON themselves (plain OpenAPI dicts).

Owns: the chat-completions and ``/api/ask`` bodies as OpenAPI schemas. Does not own: reading them
(``service.openai_api``, ``service.app``).
"""

from __future__ import annotations

from typing import Any

from ops import api as ops
from service.openai_api import MODEL_HELP

CHAT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "example": "pilotqa", "description": MODEL_HELP},
        "messages": {"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string"}, "content": {"type": "string"}}}},
        "stream": {"type": "boolean", "default": False},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}},
                           "description": "include_usage: 流的最后多发一块 usage"},
        "stop": {"type": "array", "items": {"type": "string"}, "description": "模型写答案（llm 方式）时的停止词"},
        "max_tokens": {"type": "integer", "description": "模型写答案（llm 方式）时最多的 token 数"},
        "sources_in_content": {"type": "boolean", "default": True, "description": "在内容末尾附上简短的来源列表"},
    }}}}}}  # fmt: skip
ASK_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["question"],
    "properties": {"question": {"type": "string"}, "kb": {"type": "string"},
                   "mode": {"type": "string", "enum": list(ops.MODES)},
                   "history": {"type": "array", "items": {"type": "string"}}}}}}}}  # fmt: skip
RESPONSES_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "example": "pilotqa", "description": MODEL_HELP},
        "input": {"description": "问题文字，或消息列表（最后一条为 user）", "example": "刷脸付受理终端布放了多少台？"},
        "stream": {"type": "boolean", "default": False},
        "max_output_tokens": {"type": "integer", "description": "模型写答案（llm 方式）时最多的 token 数"},
    }}}}}}  # fmt: skip
