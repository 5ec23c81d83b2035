"""The threads that hash passwords, scheduled to run only on CPU nobody else wants.

A verify is tens of milliseconds of one core; a request on the event loop is well under
one. At the same priority as the loop, a hashing thread holds its core for its time
slice whenever the kernel puts it there, and every request that arrives meanwhile waits
on the scheduler, not on the service: during a login storm the p99 of `/health` went to
2.6-6.1 times its idle value. Under Linux's SCHED_IDLE policy a hashing thread gives way at
once to any ordinary thread that wakes, the event loop, PostgreSQL and Redis among them,
and still uses every cycle they leave (login throughput did not change). Measured with
the benchmark harness on a noisy 2-core machine: `/health` p99 during the storm 1.5-3.2
times idle in four runs, against 2.6 and 6.1 in two runs without.

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
