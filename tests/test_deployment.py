"""docker-compose.yml, the Dockerfile and the package's metadata: the promises made to users.

There is no Docker engine in CI, so these read the files rather than run them.
"""

from __future__ import annotations

import re
import tomllib
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
    assert set(SERVICES) == {
        "kafka",
        "postgres",
        "redis",
        "migrate",
        "worker",
        "api",
        "collector",
    }
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


def test_infrastructure_has_healthchecks_and_apps_wait_for_them() -> None:
    for name in ("kafka", "postgres", "redis", "api", "worker"):
        assert "healthcheck" in SERVICES[name], name
    assert SERVICES["worker"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    # The worker's health is its metrics server's /healthz, on the port its settings give.
    port = Settings.model_validate(_fields(SERVICES["worker"]["environment"])).metrics_port
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(SERVICES["worker"]["healthcheck"]["test"])
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
    for name in ("migrate", "worker", "api", "collector"):
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
    assert 'RUN pip install "$(echo /wheels/*.whl)[server]"' in image_stage
    # `procmon collect` runs ps, which the slim image lacks.
    assert "procps" in image_stage
    assert 'ENTRYPOINT ["procmon"]' in dockerfile
    # Every package the wheel holds is copied into its build (history was once left out).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "history" in packages
    for package in packages:
        assert f"COPY {package} ./{package}" in wheel_stage, package


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


def test_images_are_pinned_to_a_minor_version() -> None:
    images = [service["image"] for service in SERVICES.values() if "image" in service]
    images += re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    for image in images:
        assert re.search(r":\d+\.\d+", image), image


def test_kafka_keeps_its_log_on_the_volume_and_the_host_can_reach_it() -> None:
    kafka = SERVICES["kafka"]
    environment = kafka["environment"]
    [volume] = kafka["volumes"]
    assert volume == f"kafka-data:{environment['KAFKA_LOG_DIRS']}"
    advertised = dict(
        reversed(listener.split("://"))
        for listener in environment["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    assert advertised["kafka:9092"] == "PLAINTEXT"
    host_address = next(address for address, name in advertised.items() if name == "EXTERNAL")
    assert host_address == "localhost:29092"
    assert "127.0.0.1:29092:29092" in kafka["ports"]
    assert "EXTERNAL:PLAINTEXT" in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]


def test_the_collector_sees_the_hosts_processes_once_the_topic_exists() -> None:
    collector = SERVICES["collector"]
    assert collector["command"][0] == "collect"
    assert collector["pid"] == "host"
    assert "/etc/machine-id:/etc/machine-id:ro" in collector["volumes"]
    assert collector["depends_on"] == {"worker": {"condition": "service_healthy"}}


def test_the_build_context_leaves_out_compiled_modules_and_the_venv() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"**/*.so", ".venv", ".git"} <= set(ignored)


PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVER_PACKAGES = {"faust-streaming", "aiokafka", "uvicorn", "strawberry-graphql", "starlette"}


def _requirements(extra: str | None) -> set[str]:
    """The distribution names an install of ``extra`` (None: the bare package) pulls in."""
    listed = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    names: set[str] = set()
    for requirement in listed:
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", requirement)
        assert match is not None, requirement
        if match[1] == PROJECT["name"]:
            for inner in match[2].split(","):
                names |= _requirements(inner.strip())
        else:
            names.add(match[1].lower())
    return names if extra is None else names | _requirements(None)


def test_the_distribution_is_ours_and_the_client_pulls_no_server() -> None:
    # `procmon` on PyPI is another project; the import name stays procmon.
    assert PROJECT["name"] == "procmon-fleet"
    assert PROJECT["scripts"]["procmon"] == "procmon.cli:main"
    assert not _requirements("client") & SERVER_PACKAGES
    assert {"gql", "pandas"} <= _requirements("client")
    assert _requirements("server") >= SERVER_PACKAGES
    # `make install` installs `.[dev]`: everything, the server and the client.
    assert _requirements("server") | _requirements("client") <= _requirements("dev")


# The lines of the commented "Secure Kafka" example, and the listener lines it replaces.
_SECURE_LINE = re.compile(
    r"^(\s*)# ((?:PROCMON_KAFKA_|KAFKA_)\w+: .*|secrets:.*|  \S+:|    file: .*)$"
)
_REPLACED = {
    "KAFKA_LISTENERS",
    "KAFKA_ADVERTISED_LISTENERS",
    "KAFKA_INTER_BROKER_LISTENER_NAME",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
}


def _secure_compose() -> dict[str, Any]:
    """docker-compose.yml with its commented SASL example uncommented, as the file says to."""
    lines = [
        _SECURE_LINE.sub(r"\1\2", line)
        for line in (ROOT / "docker-compose.yml").read_text().splitlines()
        if line.strip().split(":")[0] not in _REPLACED
    ]
    compose: dict[str, Any] = yaml.safe_load("\n".join(lines))
    return compose


def test_the_commented_sasl_example_logs_every_service_in(tmp_path: Path) -> None:
    compose = _secure_compose()
    services = compose["services"]
    secret = tmp_path / "kafka-password"
    secret.write_text("pw\n")
    kafka = services["kafka"]["environment"]
    listeners = dict(
        reversed(listener.split("://"))
        for listener in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    protocols = dict(
        pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(compose["secrets"]) == {"kafka-password"}
    for name in ("migrate", "worker", "api", "collector"):
        service = services[name]
        assert service["secrets"] == ["kafka-password"], name
        fields = _fields(service["environment"])
        assert fields["kafka_sasl_password_file"] == "/run/secrets/kafka-password"
        settings = Settings.model_validate(fields | {"kafka_sasl_password_file": secret})
        listener = listeners[settings.kafka_bootstrap]
        assert protocols[listener] == settings.kafka_security_protocol, name
        assert kafka["KAFKA_SASL_ENABLED_MECHANISMS"] == settings.kafka_sasl_mechanism
        mechanism = (settings.kafka_sasl_mechanism or "").lower().replace("-", "___")
        assert f"KAFKA_LISTENER_NAME_{listener}_{mechanism.upper()}_SASL_JAAS_CONFIG" in kafka
