"""PostgreSQL through asyncpg directly: the read paths that must not pay for an ORM."""
