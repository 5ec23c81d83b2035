"""The attack suites run the whole stack as the API suite does, on both configurations."""

from tests.api.conftest import (  # noqa: F401 - fixtures, registered here by import
    api_factory,
    api_postgres_url,
    base_settings,
    configuration,
    sqlite_template,
)
