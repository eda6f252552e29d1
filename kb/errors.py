"""The one error family of PilotQA.

Owns: ``PilotQAError`` and its few subclasses. Every message says, in Chinese,
what went wrong and what the user can do about it; entry points (CLI, UI) show
the message and nothing else. Does not own: logging or presentation.
"""

from __future__ import annotations


class PilotQAError(Exception):
    """Root error: ``str(err)`` is a complete, actionable message for the user."""


class InputError(PilotQAError):
    """A document cannot be read (empty, binary, unsupported, too large, corrupt)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ModelMismatchError(PilotQAError):
    """A knowledge base is opened with another embedding model than the one that built it."""


class StoreError(PilotQAError):
    """The vector store or the catalogue is unreachable or inconsistent."""


class MissingKBError(PilotQAError):
    """A command that only reads names a knowledge base that does not exist."""


class DiskFullError(StoreError):
    """The disk holding the data folder has too little space for a write: nothing of it was stored."""


class DamagedIndexError(StoreError):
    """Chroma cannot read a knowledge base's vector index (a file of it truncated): rebuilt by ``kb check --repair``."""


class BusyError(StoreError):
    """Another process kept writing a knowledge base past the time a second writer waits."""


class ConfigError(PilotQAError):
    """A setting has a value that cannot work."""


class EndpointError(PilotQAError):
    """The language-model endpoint failed: unreachable, timed out, or answered with an error."""


class RequestError(PilotQAError):
    """A request to the service cannot be answered as sent (no question, an unknown model …): says what to send."""


class NotFoundError(PilotQAError):
    """A document or passage asked for by its id is not in the knowledge base."""


class TooLongError(RequestError):
    """A question, or a conversation's history, is longer than the service answers."""


class OverloadedError(PilotQAError):
    """The service's queue for this kind of answer is full: try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)
