"""The one settings object of a procmon process, read from ``PROCMON_*`` environment variables.

Every process (worker, API, collector, dev stack) builds a single frozen :class:`Settings`
at start-up with :func:`load_settings` and passes it down; nothing else reads the environment.
The README's settings table lists every variable; ``procmon settings`` prints the values in force.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_cache_dir, user_state_dir
from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    FilePath,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from procmon.errors import ConfigurationError, ObjectStoreError
from procmon.kafka_security import SECURITY_SETTINGS, security_problem
from procmon.labels import check_labels, format_labels, parse_labels
from procmon.logs import MASK, mask_secrets
from procmon.object_store import store_root

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

ENV_PREFIX = "PROCMON_"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Settings that are passwords of their own: printed masked, like the passwords of URLs.
_PASSWORD_SETTINGS = ("api_database_password", "kafka_sasl_password", "kafka_ssl_key_password")


class Settings(BaseSettings):
    """All tunables of procmon; each field is read from ``PROCMON_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/procmon",
        description="PostgreSQL URL; `procmon migrate` creates the database when it is missing.",
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL for the API cache.")
    redis_prefix: str = Field(
        "procmon", description="Prefix of every Redis key procmon writes (share a Redis safely)."
    )
    cache_ttl: PositiveFloat = Field(
        300.0, description="Seconds a cached API answer lives at most (plus up to 10% jitter)."
    )
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated host:port."
    )
    kafka_idempotence: bool = Field(
        True,
        description="Idempotent producer. Keep on for Apache Kafka; the dev broker refuses it.",
    )
    kafka_compression: Compression = Field(
        "lz4", description="Producer compression: none, gzip, snappy, lz4 or zstd."
    )
    kafka_max_message_bytes: PositiveInt = Field(
        1_048_588,
        description="The broker's limit on a (compressed) message: Kafka's message.max.bytes.",
    )
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT",
        description="How every Kafka client connects: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or "
        "SASL_SSL (a user name and password, over TLS).",
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        None, description="SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: str | None = Field(
        None, description="SASL password (or give the file); never printed or logged."
    )
    kafka_sasl_password_file: FilePath | None = Field(
        None,
        description="File whose first line is the SASL password (a mounted secret), read each "
        "time a client is made.",
    )
    kafka_ssl_cafile: FilePath | None = Field(
        None, description="CA certificates (PEM) the broker's certificate is checked against."
    )
    kafka_ssl_certfile: FilePath | None = Field(
        None, description="Client certificate (PEM), for brokers that ask for one (mutual TLS)."
    )
    kafka_ssl_keyfile: FilePath | None = Field(
        None,
        description="The client certificate's private key (PEM), unless the certificate holds it.",
    )
    kafka_ssl_key_password: str | None = Field(
        None, description="Password of an encrypted private key; never printed or logged."
    )
    object_store_url: str | None = Field(
        None,
        description="Object store (file:///path) for listings too large for the broker even "
        "compressed; they are sent by reference. Unset: such listings are refused.",
    )
    topic: str = Field("procmon.raw-outputs", description="Topic the collectors publish to.")
    dead_letter_topic: str = Field(
        "procmon.dead-letters", description="Topic of messages that could not be stored."
    )
    topic_partitions: PositiveInt = Field(
        8, description="Partitions of the topic when procmon creates it; bounds worker parallelism."
    )
    consumer_group: str = Field("procmon-worker", description="Kafka consumer group of workers.")
    batch_size: PositiveInt = Field(200, description="Most messages one worker batch takes.")
    batch_timeout: PositiveFloat = Field(
        1.0, description="Seconds a worker waits to fill a batch before writing what it has."
    )
    writer_connections: PositiveInt = Field(
        3,
        description="Batches a worker writes at once, each over its own PostgreSQL connection; "
        "acknowledged in order all the same.",
    )
    dedupe_cache_size: PositiveInt = Field(
        100_000, description="Snapshot keys a worker remembers to skip redeliveries cheaply."
    )
    history_max_gap: PositiveFloat = Field(
        3600.0,
        description="Seconds between two snapshots of a machine beyond which no interval CPU "
        "is measured (the process keeps its key).",
    )
    history_memory_size: PositiveInt = Field(
        10_000,
        description="Machines whose latest snapshot a worker keeps in memory to link the next "
        "one without reading it back.",
    )
    earliest_timestamp: AwareDatetime = Field(
        datetime(1990, 1, 1, tzinfo=UTC),
        description="Listings dated before this are refused (dead letters saying so).",
    )
    max_clock_ahead_seconds: PositiveFloat = Field(
        86_400.0,
        description="Listings dated more than this many seconds ahead of the worker's clock "
        "are refused (dead letters saying so).",
    )
    session_timeout: PositiveFloat = Field(
        10.0, description="Kafka consumer session timeout in seconds (worker takeover time)."
    )
    heartbeat_interval: PositiveFloat = Field(
        1.0, description="Kafka consumer heartbeat interval in seconds."
    )
    db_retry_attempts: PositiveInt = Field(
        8, description="Attempts to write a batch when PostgreSQL is unreachable before exiting."
    )
    rollup_interval: PositiveFloat = Field(
        60.0,
        description="Seconds between a worker's rounds of the rollups, which count stored "
        "snapshots into process_days and the stats_* tables (`procmon rollup` runs one round).",
    )
    partition_days: PositiveInt = Field(
        1,
        description="UTC days each new partition of commands and processes spans, counted "
        "from 1970-01-01; partitions made before keep their bounds.",
    )
    partitions_ahead_days: Annotated[int, Field(ge=0)] = Field(
        7,
        description="Days after today whose partitions `procmon migrate` and each worker's "
        "maintenance timer create ahead of the rows.",
    )
    retention_days: PositiveInt | None = Field(
        None,
        description="Days of process rows kept: a partition of processes goes once its last "
        "day is older (`procmon retention run`); unset keeps every row.",
    )
    raw_output_retention_days: PositiveInt | None = Field(
        None,
        description="Days of listings' raw text kept (their snapshots stay, with a null "
        "rawOutput); unset keeps every listing.",
    )
    rollup_retention_days: PositiveInt | None = Field(
        None,
        description="Days of the rollup tables (process_days, stats_*) kept; unset keeps every "
        "day. At least PROCMON_RETENTION_DAYS: the rollups answer for the rows gone.",
    )
    maintenance_interval: PositiveFloat = Field(
        3600.0,
        description="Seconds between a worker's maintenance rounds: partitions ahead, then "
        "retention (as `procmon retention run`, one worker at a time).",
    )
    parking_dir: Path = Field(
        default_factory=lambda: Path(user_state_dir("procmon")) / "parked",
        description="Directory of messages the database refused even as dead letters: each a "
        "file with its exact bytes, key, coordinates and reasons (`procmon dead-letters`).",
    )
    spool_dir: Path = Field(
        default_factory=lambda: Path(user_state_dir("procmon")) / "spool",
        description="Directory where `procmon collect --interval` spools each listing, one "
        "file each, until the broker acknowledged it (`procmon spool status`).",
    )
    spool_max_bytes: PositiveInt = Field(
        268_435_456,
        description="The most bytes the spool holds; past it the oldest listings are dropped, "
        "and counted.",
    )
    kafka_send_timeout: PositiveFloat = Field(
        10.0,
        description="Seconds a collector agent waits for the broker to take and acknowledge a "
        "listing before it counts the broker as away and tries again later.",
    )
    worker_data_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir("procmon")) / "worker",
        description="Directory of the worker's Faust data, one subdirectory per consumer group; "
        "nothing in it needs keeping.",
    )
    metrics_host: str = Field("127.0.0.1", description="Address of a worker's metrics server.")
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        9108, description="Port of a worker's /metrics and /healthz; 0 turns them off."
    )
    api_host: str = Field("127.0.0.1", description="Address the GraphQL API listens on.")
    api_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        8000, description="Port the GraphQL API listens on."
    )
    api_workers: PositiveInt = Field(
        1,
        description="API processes serving one port (`procmon api --workers`), each with its "
        "own pool of `api_pool_size` connections; about one per core the API may use.",
    )
    api_rate_limit: Annotated[int, Field(ge=0)] = Field(
        600,
        description="Requests one API key may make per `api_rate_window` seconds, counted in "
        "Redis across API processes; more get 429. 0 turns the limit off.",
    )
    api_rate_window: PositiveInt = Field(
        10, description="Seconds of the rate limit's fixed window (the longest Retry-After)."
    )
    api_read_database_url: str | None = Field(
        None, description="A read replica's URL; when given, the API queries it instead."
    )
    api_database_role: str = Field(
        "procmon_api",
        description="PostgreSQL role the API connects as (read-only, created by `procmon "
        "migrate`); empty: the user of the API's database URL.",
    )
    api_database_password: str | None = Field(
        None,
        description="Password of the API's role, set by `procmon migrate` and used by the API; "
        "unset or empty: none (trust or peer authentication).",
    )
    api_statement_timeout: PositiveFloat = Field(
        5.0, description="Seconds one API query may run before PostgreSQL cancels it."
    )
    api_pool_size: PositiveInt = Field(
        8, description="Most PostgreSQL connections of one API process (`api_workers`)."
    )
    api_require_key: bool = Field(
        True, description="Refuse API requests without a valid key (`procmon apikey create`)."
    )
    api_key_cache_seconds: Annotated[float, Field(ge=0)] = Field(
        10.0,
        description="Seconds the API uses its set of active keys before reading it again: a "
        "revoked key works this long at most; 0 reads it on every request.",
    )
    api_page_size: PositiveInt = Field(
        100, description="Rows of a page of processes or snapshots when `first` is not given."
    )
    api_max_page_size: PositiveInt = Field(
        1000, description="The most rows a page may have (`first`); larger asks are refused."
    )
    api_max_body_bytes: PositiveInt = Field(
        1_048_576,
        description="The largest request body the API reads; a larger one gets 413.",
    )
    api_export_connections: PositiveInt = Field(
        4,
        description="PostgreSQL connections for exports, apart from the GraphQL pool; an "
        "export finding none free within a second gets 503 with Retry-After.",
    )
    api_export_write_timeout: PositiveFloat = Field(
        30.0,
        description="Seconds an export waits for its client to take the next chunk before it "
        "cuts the response and frees its connection.",
    )
    api_request_seconds: PositiveFloat = Field(
        15.0,
        description="Time budget of one GraphQL request across all its statements (and waits "
        "for a connection); what runs past it is cancelled with an error.",
    )
    api_request_rows: PositiveInt = Field(
        100_000,
        description="Rows one GraphQL request may fetch across all its fields, each charged "
        "its most (a page's size, a limit) before it runs.",
    )
    api_max_response_bytes: PositiveInt = Field(
        67_108_864,
        description="The largest GraphQL answer; rawOutput is charged its size before it is "
        "read, and an answer over the limit is refused with an error.",
    )
    api_cache_max_bytes: PositiveInt = Field(
        1_048_576, description="Answers larger than this are not written to the cache."
    )
    labels: Annotated[dict[str, str], NoDecode, AfterValidator(check_labels)] = Field(
        default_factory=dict,
        description="This machine's labels, sent with each listing `procmon collect` takes: "
        "name=value pairs separated by commas, e.g. role=web,site=eu (`--label` adds or "
        "overrides one).",
    )
    collect_commands: str | None = Field(
        None,
        description="Listing commands `procmon collect` runs each time, separated by `;` "
        "(e.g. `ps axu; top -b -n 1`); unset: this OS's default. One no parser reads is "
        "refused at start-up.",
    )
    demo_collect_interval: PositiveFloat = Field(
        60.0,
        description="Seconds between the listings of this machine that `procmon up` publishes "
        "while it runs.",
    )
    log_level: LogLevel = Field("INFO", description="Log level of every procmon process.")

    def environment(self) -> dict[str, str]:
        """The ``PROCMON_*`` variables that give a child process these settings.

        Unset optional settings are left out: ``str(None)`` would set them to ``"None"``.
        """
        return {
            f"{ENV_PREFIX}{name.upper()}": _as_variable(value)
            for name, value in self.model_dump().items()
            if value is not None
        }

    def masked_environment(self) -> dict[str, str]:
        """:meth:`environment` with every password masked, for printing.

        A password may be a URL's (any ``*_url`` setting) or a setting of its own
        (``api_database_password``, the Kafka SASL and key passwords); an empty one stays
        empty, so that it still reads as none.
        """
        passwords = {f"{ENV_PREFIX}{name.upper()}" for name in _PASSWORD_SETTINGS}
        return {
            variable: MASK if variable in passwords and value else mask_secrets(value)
            for variable, value in self.environment().items()
        }

    @field_validator("object_store_url")
    @classmethod
    def _file_url_or_none(cls, value: str | None) -> str | None:
        # Checked here so that every process refuses a bad URL at start-up, not when the first
        # large listing comes. An empty variable (a compose file's `VAR=`) means unset.
        if not value:
            return None
        try:
            store_root(value)
        except ObjectStoreError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_of_text(cls, value: object) -> object:
        # The variable is name=value pairs, not the JSON pydantic-settings reads a dict from.
        return parse_labels(value) if isinstance(value, str) else value

    @field_validator("log_level", "kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(*SECURITY_SETTINGS, mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # A compose file's `VAR=` keeps the variable, empty: it reads as unset.
        return None if value == "" else value

    @model_validator(mode="after")
    def _kafka_security_consistent(self) -> Settings:
        problem = security_problem(self)
        if problem is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _rollups_outlive_rows(self) -> Settings:
        # A day's rows still stored must have their rollup partitions to be counted into (a
        # relinked snapshot is counted again): the rollup would stop at the first one.
        rollup, rows = self.rollup_retention_days, self.retention_days
        if rollup is not None and (rows is None or rollup < rows):
            kept = "every process row" if rows is None else f"{rows} days of process rows"
            raise ValueError(
                f"PROCMON_ROLLUP_RETENTION_DAYS ({rollup}) keeps fewer days than"
                f" PROCMON_RETENTION_DAYS keeps ({kept}): the rollups must outlive the rows"
            )
        return self


def _as_variable(value: object) -> str:
    """A setting's value as its variable reads it back."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return format_labels(value)
    return str(value)


def load_settings() -> Settings:
    """Read the settings from the environment, turning a bad value into a clear error."""
    try:
        return Settings()
    except ValidationError as exc:
        # A check of several settings together (no location) names them in its message.
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            if err["loc"]
            else err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
