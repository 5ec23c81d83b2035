"""SQLAlchemy (async) adapters: PostgreSQL via asyncpg, SQLite via aiosqlite."""
