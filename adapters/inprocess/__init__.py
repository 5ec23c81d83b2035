"""Adapters that need no server: they run inside the service's process (the embedded
default's rate limiter and task queue, and the system clock for every configuration)."""
