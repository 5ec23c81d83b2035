"""A progress bar on standard error, drawn only when it is a terminal."""

from __future__ import annotations

from typing import TextIO


class ProgressBar:
    WIDTH = 30

    def __init__(self, stream: TextIO, label: str, total: int | None = None) -> None:
        self._stream = stream if stream.isatty() else None
        self._label = label
        self._total = total
        self._drawn = False

    def __call__(self, done: int) -> None:
        if self._stream is None:
            return
        if self._total:
            filled = min(self.WIDTH, self.WIDTH * done // self._total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            text = f"{self._label} [{bar}] {done:,}/{self._total:,}"
        else:
            text = f"{self._label} {done:,}"
        self._stream.write("\r" + text)
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._stream is not None and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
