"""compose.yaml and .env.example agree with the code: settings, commands, no secrets.

Fast and docker-free: it only reads the files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoints.cli.main import parser
from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"

SERVICES = {"api", "migrate", "postgres", "redis", "worker", "flower"}
LONG_RUNNING = {"api", "postgres", "redis", "worker", "flower"}
BOOKLY_VARIABLE = re.compile(r"\bBOOKLY_[A-Z0-9_]+")
SECRET_NAME = re.compile(r"SECRET_KEY|PASSWORD")
INTERPOLATION = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?+])[^}]*)?\}")
ENV_PREFIX = Settings.model_config["env_prefix"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the `- NAME=value` form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def setting_fields() -> set[str]:
    """Every BOOKLY_ variable; fields bound to another program's variable (an alias, such
    as prometheus_client's PROMETHEUS_MULTIPROC_DIR) are not ours to name."""
    return {
        ENV_PREFIX + name.upper()
        for name, field in Settings.model_fields.items()
        if field.validation_alias is None
    }


def test_the_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= SERVICES


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_each_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)


def test_api_waits_for_a_successful_migration(services: dict[str, dict[str, Any]]) -> None:
    depends_on = services["api"]["depends_on"]
    assert isinstance(depends_on, dict), "api must name conditions for what it depends on"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_api_and_migration_run_the_same_image(services: dict[str, dict[str, Any]]) -> None:
    assert services["api"].get("image") == services["migrate"].get("image")
    assert "build" in services["migrate"]


@pytest.mark.parametrize("source", [COMPOSE_FILE, ENV_EXAMPLE], ids=lambda path: path.name)
def test_every_bookly_variable_is_a_setting(source: Path) -> None:
    named = set(BOOKLY_VARIABLE.findall(source.read_text(encoding="utf-8")))
    assert named, f"{source.name} names no BOOKLY_ variable"
    assert named - setting_fields() == set()


def test_env_example_shows_every_setting() -> None:
    named = set(BOOKLY_VARIABLE.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))
    assert setting_fields() - named == set()


@pytest.mark.parametrize("name", ["api", "migrate", "worker", "flower"])
def test_commands_are_bookly_subcommands(services: dict[str, dict[str, Any]], name: str) -> None:
    command = services[name]["command"]
    argv = command.split() if isinstance(command, str) else [str(part) for part in command]
    args = parser().parse_args(argv)  # argparse exits (SystemExit) on anything unknown
    assert args.command == argv[0]


def test_the_api_healthcheck_asks_for_health(services: dict[str, dict[str, Any]]) -> None:
    test = services["api"]["healthcheck"]["test"]
    text = test if isinstance(test, str) else " ".join(test)
    assert "http://127.0.0.1:8000/health" in text
    assert "urllib" in text  # the image has no curl


def test_the_api_runs_in_production_on_postgresql_and_redis(
    services: dict[str, dict[str, Any]],
) -> None:
    environment = environment_of(services["api"])
    assert environment["BOOKLY_ENV"] == "production"
    assert environment["BOOKLY_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["BOOKLY_REDIS_URL"].startswith("redis://redis:6379")
    assert "localhost" in environment["BOOKLY_ALLOWED_HOSTS"]


def test_no_literal_secret_in_compose(services: dict[str, dict[str, Any]]) -> None:
    secrets_seen = 0
    for service_name, service in services.items():
        for name, value in environment_of(service).items():
            if SECRET_NAME.search(name):
                secrets_seen += 1
                assert INTERPOLATION.fullmatch(value), (
                    f"{service_name}: {name} must be a ${{...}} interpolation, not a literal"
                )
            # A password inside a URL (user:password@host) must come from the environment too.
            without_interpolations = INTERPOLATION.sub("", value)
            assert not re.search(r"://[^:/@]+:[^@]+@", without_interpolations), (
                f"{service_name}: {name} holds a literal password"
            )
    assert secrets_seen, "compose.yaml configures no secret at all"


def test_env_example_holds_no_real_secret() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        if SECRET_NAME.search(name):
            assert value.strip() == "" or "change-me" in value, f"{name} has a real-looking value"


def test_the_worker_and_flower_share_the_broker_of_the_api(
    services: dict[str, dict[str, Any]],
) -> None:
    brokers = {
        name: environment_of(services[name]).get("BOOKLY_BROKER_URL")
        for name in ("api", "worker", "flower")
    }
    assert len(set(brokers.values())) == 1 and brokers["api"].startswith("redis://redis:6379")
    flower = environment_of(services["flower"])
    assert flower["BOOKLY_ENV"] == "production" and flower["BOOKLY_FLOWER_USER"]
    assert INTERPOLATION.fullmatch(flower["BOOKLY_FLOWER_PASSWORD"])  # basic auth, no literal
