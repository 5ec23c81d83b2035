"""An event loop and a container per worker process, for synchronous Celery tasks."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.settings import Settings

T = TypeVar("T")


class Runtime:
    """Celery tasks are synchronous; each hands its coroutine to this process's event
    loop, which runs in a thread of its own, and waits for the result.

    Loop and container are made on first use in each process, so a prefork child never
    uses connections opened by its parent. The caller's context variables (the request
    id bound for the logs) travel with the coroutine. A Celery time limit that interrupts
    the wait cancels the coroutine too.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._container: Container | None = None

    def _started(self) -> tuple[asyncio.AbstractEventLoop, Container]:
        with self._lock:
            if self._pid != os.getpid() or self._loop is None or self._container is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="bookly-task-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                container = build_container(self._settings)
                asyncio.run_coroutine_threadsafe(open_resources(container), loop).result()
                self._container = container
                self._pid = os.getpid()
            return self._loop, self._container

    def run(self, work: Callable[[Container], Coroutine[Any, Any, T]]) -> T:
        loop, container = self._started()
        future = asyncio.run_coroutine_threadsafe(work(container), loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def close(self, timeout: float = 10.0) -> None:
        """Close this process's connections and stop its loop (at process shutdown)."""
        with self._lock:
            loop, container, thread = self._loop, self._container, self._thread
            if self._pid != os.getpid() or loop is None or container is None:
                return
            self._loop = self._container = self._thread = None
            self._pid = None
        try:
            asyncio.run_coroutine_threadsafe(close_resources(container), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(timeout)
