"""The service's bounded queues: instant answers and model-reading answers each on their own threads.

Owns: a ``Lane`` (worker threads, and how many requests may wait for them): taking a place in it or refusing at
once with ``OverloadedError`` (429, its ``Retry-After`` estimated from how long recent work took and how much
is ahead), running work on its threads, and giving the place back when the work ends, fails or is cancelled
before it began. Two lanes make a model reading for a minute unable to hold an extractive answer that takes
10 ms. Does not own: which lane a request belongs to (``service.pool``) or HTTP (``service.app``).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from kb.errors import OverloadedError

T = TypeVar("T")
FULL = "{what}正忙：{ahead} 个请求正在处理或排队，已达上限。请约 {retry} 秒后重试{hint}。"


class Lane:
    """``workers`` threads, and room for ``queue`` requests waiting for them."""

    def __init__(self, name: str, what: str, workers: int, queue: int, hint: str = "") -> None:
        self.name, self.what, self.hint = name, what, hint
        self.workers, self.capacity = workers, workers + queue
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix=f"pilotqa-{name}")
        self._held = 0
        self._mean_s = 0.05 if name == "instant" else 20.0  # a first guess, replaced by what work takes
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        """Requests running or waiting in this lane now."""
        return self._held

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the work ahead, shared by the workers, at its recent pace."""
        return max(1, math.ceil(self._mean_s * max(1, self._held - self.workers + 1) / self.workers))

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` on this lane's threads, holding a place until it ends (or is cancelled unstarted); an
        ``OverloadedError`` at once when every place is taken."""
        with self._lock:
            if self._held >= self.capacity:
                retry = self.retry_after()
                raise OverloadedError(FULL.format(what=self.what, ahead=self._held, retry=retry, hint=self.hint), retry)
            self._held += 1
        try:
            future = self.executor.submit(self._timed, fn, args, kwargs)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return future

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on this lane; the caller awaits its result."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def _timed(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - began
            with self._lock:
                self._mean_s = 0.8 * self._mean_s + 0.2 * took

    def _release(self, _future: Future[Any] | None = None) -> None:
        with self._lock:
            self._held -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
