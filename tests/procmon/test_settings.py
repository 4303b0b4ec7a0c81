"""Settings: read from PROCMON_* variables, frozen, with clear errors."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from pydantic import ValidationError

from procmon.errors import ConfigurationError
from procmon.logs import configure_logging
from procmon.settings import ENV_PREFIX, Settings, load_settings


@pytest.fixture(autouse=True)
def _no_procmon_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test from an environment with no PROCMON_* variable."""
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)


def test_values_come_from_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCMON_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("PROCMON_KAFKA_IDEMPOTENCE", "false")
    settings = load_settings()
    assert settings.topic_partitions == 12
    assert settings.kafka_idempotence is False
    assert settings.model_fields_set == {"topic_partitions", "kafka_idempotence"}


def test_defaults_keep_idempotence_on_and_at_least_eight_partitions() -> None:
    settings = load_settings()
    assert settings.kafka_idempotence is True
    assert settings.topic_partitions >= 8


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCMON_TOPIC_PARTITIONS", "0")
    with pytest.raises(ConfigurationError, match="PROCMON_TOPIC_PARTITIONS: Input should be"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.topic = "other"  # type: ignore[misc]


def test_log_level_is_case_insensitive_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCMON_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    monkeypatch.setenv("PROCMON_LOG_LEVEL", "chatty")
    with pytest.raises(ConfigurationError, match="PROCMON_LOG_LEVEL: Input should be 'DEBUG'"):
        load_settings()


def test_labels_are_name_value_pairs_separated_by_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().labels == {}
    monkeypatch.setenv("PROCMON_LABELS", "role=web, site=eu")
    assert load_settings().labels == {"role": "web", "site": "eu"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("role", "label 'role' is not name=value"),
        ("role=web,site-name=eu", "label name 'site-name' is not 1 to 63 letters"),
        ('{"role": "web"}', """label '{"role": "web"}' is not name=value"""),
    ],
)
def test_bad_labels_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("PROCMON_LABELS", value)
    with pytest.raises(ConfigurationError, match=f"PROCMON_LABELS: Value error, {expected}"):
        load_settings()
    with pytest.raises(ValidationError, match="is not 1 to 63 letters"):
        Settings(labels={"1x": "y"})


def test_the_environment_of_a_child_gives_it_the_same_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        kafka_idempotence=False,
        metrics_port=0,
        api_read_database_url=None,
        labels={"role": "web", "site": "eu"},
    )
    environment = settings.environment()
    assert environment["PROCMON_LABELS"] == "role=web,site=eu"
    assert "PROCMON_API_READ_DATABASE_URL" not in environment
    assert "PROCMON_OBJECT_STORE_URL" not in environment
    assert environment["PROCMON_KAFKA_IDEMPOTENCE"] == "false"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == settings


def test_the_object_store_is_off_unless_a_file_url_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().object_store_url is None
    # A compose file's `PROCMON_OBJECT_STORE_URL=` leaves it off rather than failing.
    monkeypatch.setenv("PROCMON_OBJECT_STORE_URL", "")
    assert load_settings().object_store_url is None
    monkeypatch.setenv("PROCMON_OBJECT_STORE_URL", "file:///srv/procmon/objects")
    assert load_settings().object_store_url == "file:///srv/procmon/objects"


@pytest.mark.parametrize("url", ["s3://bucket/objects", "/srv/objects", "file:objects"])
def test_an_object_store_url_procmon_cannot_open_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("PROCMON_OBJECT_STORE_URL", url)
    with pytest.raises(
        ConfigurationError, match=r"PROCMON_OBJECT_STORE_URL: .*must be file:///absolute/path"
    ):
        load_settings()


def test_printed_settings_mask_every_password_and_nothing_else() -> None:
    settings = Settings(
        database_url="postgresql://procmon:s3cret@db:5432/procmon",
        redis_url="redis://:r3dis@cache:6379/0",
        api_read_database_url="postgresql://reader@replica/procmon",
        api_database_password="hunter2",
    )
    masked = settings.masked_environment()
    assert masked["PROCMON_DATABASE_URL"] == "postgresql://procmon:***@db:5432/procmon"
    assert masked["PROCMON_REDIS_URL"] == "redis://:***@cache:6379/0"
    assert masked["PROCMON_API_READ_DATABASE_URL"] == "postgresql://reader@replica/procmon"
    assert masked["PROCMON_API_DATABASE_PASSWORD"] == "***"
    secret = {"PROCMON_DATABASE_URL", "PROCMON_REDIS_URL", "PROCMON_API_DATABASE_PASSWORD"}
    clear = {k: v for k, v in settings.environment().items() if k not in secret}
    assert {k: v for k, v in masked.items() if k not in secret} == clear
    assert not any(secret in str(masked) for secret in ("s3cret", "r3dis", "hunter2"))


def test_log_lines_mask_passwords_in_urls_and_conninfo() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", stream)
    try:
        logging.getLogger("procmon.test").error(
            "cannot reach %s nor %s", "postgresql://u:pw1@db/x", "host=db password=pw2 user=u"
        )
    finally:
        root.handlers[:], root.level = handlers, level
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == (
        "cannot reach postgresql://u:***@db/x nor host=db password=*** user=u"
    )


def test_rollups_kept_shorter_than_the_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCMON_RETENTION_DAYS", "30")
    monkeypatch.setenv("PROCMON_ROLLUP_RETENTION_DAYS", "29")
    with pytest.raises(ConfigurationError, match=r"ROLLUP_RETENTION_DAYS \(29\) keeps fewer"):
        load_settings()
    monkeypatch.setenv("PROCMON_ROLLUP_RETENTION_DAYS", "30")
    assert load_settings().rollup_retention_days == 30
    monkeypatch.delenv("PROCMON_RETENTION_DAYS")
    with pytest.raises(ConfigurationError, match="than PROCMON_RETENTION_DAYS keeps \\(every"):
        load_settings()
