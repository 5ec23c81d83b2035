"""Keeps the benchmark harness out of every pytest run: nothing here is a test, and nothing
here may become a timed test (CI stays free of timing assertions)."""

collect_ignore_glob = ["*"]
