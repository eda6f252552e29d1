"""The assistant: hybrid retrieval and grounded answers with sentence-level citations.

``from assistant import Assistant`` (loaded lazily: importing the package stays cheap).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from assistant.core import Assistant

        return Assistant
    raise AttributeError(name)
