"""docker-compose.yml and the Dockerfile: the promises made to users who run them.

There is no Docker engine in CI, so these read the files rather than run them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from psycopg.conninfo import conninfo_to_dict

from procmon.database import api_database_url
from procmon.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def test_every_service_of_the_design_is_there() -> None:
    assert set(SERVICES) == {"kafka", "postgres", "redis", "migrate", "worker", "api"}
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


def test_infrastructure_has_healthchecks_and_apps_wait_for_them() -> None:
    for name in ("kafka", "postgres", "redis", "api"):
        assert "healthcheck" in SERVICES[name], name
    assert SERVICES["worker"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert SERVICES["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert SERVICES["migrate"]["command"] == ["migrate"]


def test_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_apps_use_only_real_settings_and_kafka_keeps_idempotence() -> None:
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "worker", "api"):
        environment = SERVICES[name]["environment"]
        assert set(environment) <= known, name
        assert environment["PROCMON_KAFKA_IDEMPOTENCE"] == "true"


def test_image_installs_the_project_and_runs_procmon() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    wheel_stage, image_stage = dockerfile.split("\nFROM ")[1:]
    # The wheel is built where a compiler is, so that it holds the compiled row assembler.
    assert "gcc" in wheel_stage
    assert "hatch_build.py" in wheel_stage
    assert "RUN pip wheel --no-deps --wheel-dir /wheels ." in wheel_stage
    assert "gcc" not in image_stage
    assert "RUN pip install /wheels/*.whl" in image_stage
    assert 'ENTRYPOINT ["procmon"]' in dockerfile
    for package in ("procmon", "parsers", "streams", "graphql_api"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_api_logs_in_as_the_read_only_role_that_migrate_creates() -> None:
    migrate_env = SERVICES["migrate"]["environment"]
    api_env = SERVICES["api"]["environment"]
    for name in ("PROCMON_API_DATABASE_ROLE", "PROCMON_API_DATABASE_PASSWORD"):
        assert api_env[name] == migrate_env[name], name
    owner = conninfo_to_dict(migrate_env["PROCMON_DATABASE_URL"])
    assert owner["user"] == SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    # The API is given neither the owner's name nor the owner's password.
    api_url = conninfo_to_dict(api_env["PROCMON_DATABASE_URL"])
    assert "user" not in api_url
    assert "password" not in api_url
    connects_as = conninfo_to_dict(api_database_url(Settings.model_validate(_fields(api_env))))
    assert connects_as["user"] == migrate_env["PROCMON_API_DATABASE_ROLE"] != owner["user"]
    assert connects_as["password"] == migrate_env["PROCMON_API_DATABASE_PASSWORD"]
    assert connects_as["password"] != owner["password"]
    assert connects_as["dbname"] == owner["dbname"]
    # Only the services that need the role's password have it.
    assert "PROCMON_API_DATABASE_PASSWORD" not in SERVICES["worker"]["environment"]


def _fields(environment: dict[str, str]) -> dict[str, str]:
    """Settings fields of a service's ``PROCMON_*`` variables."""
    return {name.removeprefix(ENV_PREFIX).lower(): value for name, value in environment.items()}
