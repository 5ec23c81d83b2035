"""One /metrics for several uvicorn workers: prometheus_client's multiprocess mode.

Each worker process writes its samples to files in one folder, named by the variable
PROMETHEUS_MULTIPROC_DIR (prometheus_client's own, read by it at import, so it must be
set before the workers start); whichever worker answers a scrape adds them all up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics_folder(
    workers: int, metrics_enabled: bool, given: Path | None
) -> Iterator[Path | None]:
    """With several workers: a fresh folder of our own, removed afterwards; or the operator's
    folder, emptied of a previous run's samples. Nothing with one worker and no folder."""
    if not metrics_enabled:
        yield None
        return
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # counters of a previous run would add up
            stale.unlink()
        yield folder
        return
    if workers < 2:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="bookly-metrics-"))
    # Handed to the workers uvicorn starts: prometheus_client reads this variable at
    # import in each worker, so the environment they inherit is the only way in. (Read
    # back, it is a setting like any other: `Settings.prometheus_multiproc_dir`.)
    os.environ[VARIABLE] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(folder, ignore_errors=True)
