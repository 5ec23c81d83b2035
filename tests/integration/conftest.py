from tests.integration.sql_fixtures import (  # noqa: F401 - fixtures, registered by import
    database_url,
    postgres_database_url,
    sql_engine,
    sql_sessions,
    sqlite_database_url,
    uow_factory,
)
