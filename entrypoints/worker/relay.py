"""The outbox relay inside the worker: a bootstep that runs it in a thread of the main
process, beside the consumer, from after the pool has started until shutdown."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from celery import bootsteps

from entrypoints.container import build_container, close_resources, open_resources
from entrypoints.settings import Settings
from entrypoints.tracing import untraced


class RelayThread:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="bookly-outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        container = build_container(self._settings)
        await open_resources(container)
        try:
            with untraced():  # an idle poll is no trace; each job continues its cause's
                await container.outbox_relay().run(self._stop)
        finally:
            await close_resources(container)


def relay_step(settings: Settings) -> type[bootsteps.StartStopStep]:
    class OutboxRelayStep(bootsteps.StartStopStep):
        """Every worker relays; concurrent relays skip each other's rows."""

        requires = ("celery.worker.components:Pool",)

        def __init__(self, worker: Any, **kwargs: Any) -> None:
            super().__init__(worker, **kwargs)
            self.relay: RelayThread | None = None

        def start(self, worker: Any) -> None:
            self.relay = RelayThread(settings)
            self.relay.start()

        def stop(self, worker: Any) -> None:
            if self.relay is not None:
                self.relay.stop()
                self.relay = None

        def shutdown(self, worker: Any) -> None:
            self.stop(worker)

    return OutboxRelayStep
