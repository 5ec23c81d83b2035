"""In-memory doubles of the ports, for the unit tests: no I/O. The persistence ones hold
the SQL adapters' rules (uniqueness, cascades) as the tests need them."""
