"""The benchmark harness (issue 8): `python -m tests.benchmarks.run`. Not part of `pytest`."""
