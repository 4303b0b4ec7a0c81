"""docker-compose.yml and the Dockerfile: the promises made to users who run them.

There is no Docker engine in CI, so these read the files rather than run them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
