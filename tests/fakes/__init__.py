"""In-memory doubles of the ports, for the unit tests: no I/O. The persistence ones are held
to the SQL schema's rules (uniqueness, cascades) by tests/persistence_contract.py, which
runs on them and on the SQL adapter on both databases."""
