"""The threads that hash passwords, scheduled to run only on CPU nobody else wants.

A verify holds a core for far longer than a request holds the event loop. At the same
priority as the loop, a hashing thread keeps its core for its time slice whenever the
kernel puts it there, and every request that arrives meanwhile waits on the scheduler, not
on the service: a login storm stretches the latency of every other request. Under Linux's
SCHED_IDLE policy a hashing thread gives way at once to any ordinary thread that wakes,
the event loop, PostgreSQL and Redis among them, and still uses every cycle they leave, so
login throughput stays. The benchmark harness measures both (results in
`tests/benchmarks/README.md`).

The price: when every core is busy with ordinary work, logins wait until some is left.
That is the order a service under load should keep (a flood of logins cannot starve
the rest), and `BOOKLY_ARGON2_IDLE_PRIORITY=false` restores ordinary scheduling.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


def yield_to_everything_else() -> bool:
    """Puts the calling thread under SCHED_IDLE; True if it is. Only Linux has the policy
    (per thread); elsewhere, or where a sandbox forbids it, the thread keeps its own."""
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None:
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))  # 0: the calling thread
    except OSError as error:
        log.warning("argon2 threads keep ordinary scheduling: %s", error)
        return False
    return True


def hashing_threads(count: int, idle_priority: bool) -> ThreadPoolExecutor:
    """`count` threads for argon2; each puts itself under SCHED_IDLE as it starts when
    `idle_priority`."""
    if not idle_priority:
        return ThreadPoolExecutor(count, thread_name_prefix="argon2")
    return ThreadPoolExecutor(
        count, thread_name_prefix="argon2", initializer=yield_to_everything_else
    )
