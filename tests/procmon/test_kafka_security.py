"""TLS and SASL settings: checked together at start-up, masked, and used by every Kafka client.

The dev broker (tansu) speaks SCRAM but cannot be given a user while it requires a login with
the memory storage of the tests, so the SASL tests see a real SCRAM exchange end in the
broker's refusal; TLS goes through a TLS proxy of the test's own in front of the broker.
"""

from __future__ import annotations

import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from procmon.devstack import free_port, start_dev_broker
from procmon.errors import CollectorError, ConfigurationError, KafkaAuthenticationError
from procmon.kafka import ensure_topics, producer_options, publish_raw
from procmon.kafka_security import kafka_client_options
from procmon.logs import mask_secrets
from procmon.settings import Settings, load_settings
from streams.replay import replay_topic
from tests.kafka_tls import KEY_PASSWORD, TlsFiles, make_tls_files, tls_proxy

SCRAM: dict[str, object] = {
    "kafka_security_protocol": "SASL_PLAINTEXT",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "procmon",
    "kafka_sasl_password": "s3cret-pw",
}


def scram(**changes: object) -> Settings:
    """Settings of a SCRAM-SHA-512 login as procmon, with ``changes``."""
    return Settings.model_validate(SCRAM | changes)


def tls(bootstrap: str, cafile: Path) -> Settings:
    """Settings of a TLS client of ``bootstrap`` trusting ``cafile``, on a topic of its own."""
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cafile,
        topic=f"tls-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def login_broker() -> Iterator[str]:
    """A dev broker that requires every client to log in."""
    process, address = start_dev_broker(authentication=True)
    yield address
    process.kill()
    process.wait()


@contextlib.asynccontextmanager
async def _tls_broker(files: TlsFiles, *, authentication: bool) -> AsyncIterator[str]:
    """A dev broker behind a TLS proxy, whose port is the address the broker advertises."""
    port, proxy_port = free_port(), free_port()
    process, address = start_dev_broker(
        port=port, advertised_port=proxy_port, authentication=authentication
    )
    try:
        async with tls_proxy(files, proxy_port, port):
            yield address
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def tls_broker(tls_files: TlsFiles) -> AsyncIterator[str]:
    """A dev broker reached only over TLS, with a certificate of the test CA."""
    async with _tls_broker(tls_files, authentication=False) as address:
        yield address


@pytest.fixture
async def tls_login_broker(tls_files: TlsFiles) -> AsyncIterator[str]:
    """A dev broker reached only over TLS that requires every client to log in."""
    async with _tls_broker(tls_files, authentication=True) as address:
        yield address


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    assert kafka_client_options(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert producer_options(Settings())["security_protocol"] == "PLAINTEXT"


def test_sasl_settings_become_the_producers_login() -> None:
    options = producer_options(scram())
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "procmon"
    assert options["sasl_plain_password"] == "s3cret-pw"
    assert "ssl_context" not in options


def test_the_password_file_is_read_each_time_a_client_is_made(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("first-pw\n", encoding="utf-8")
    settings = scram(kafka_sasl_password=None, kafka_sasl_password_file=secret)
    assert kafka_client_options(settings)["sasl_plain_password"] == "first-pw"
    secret.write_text("rotated-pw\n", encoding="utf-8")
    assert kafka_client_options(settings)["sasl_plain_password"] == "rotated-pw"


def test_the_passwords_are_masked_for_printing_and_in_logs(tls_files: TlsFiles) -> None:
    settings = scram(
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_certfile=tls_files.client_cert,
        kafka_ssl_keyfile=tls_files.client_key,
        kafka_ssl_key_password=KEY_PASSWORD,
    )
    masked = settings.masked_environment()
    assert masked["PROCMON_KAFKA_SASL_PASSWORD"] == "***"
    assert masked["PROCMON_KAFKA_SSL_KEY_PASSWORD"] == "***"
    assert masked["PROCMON_KAFKA_SASL_USERNAME"] == "procmon"
    assert "s3cret-pw" not in str(masked)
    assert KEY_PASSWORD not in str(masked)
    # A child process given the environment logs in as this one does.
    assert settings.environment()["PROCMON_KAFKA_SASL_PASSWORD"] == "s3cret-pw"
    assert "s3cret-pw" not in mask_secrets(f"producer options: {kafka_client_options(settings)}")


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "sasl_ssl"},
            "PROCMON_KAFKA_SASL_MECHANISM is required with SASL_SSL; PROCMON_KAFKA_SASL_USERNAME"
            " is required with SASL_SSL; give one of PROCMON_KAFKA_SASL_PASSWORD or "
            "PROCMON_KAFKA_SASL_PASSWORD_FILE with SASL_SSL, not neither",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "PROCMON_KAFKA_SASL_MECHANISM: Input should be 'PLAIN', 'SCRAM-SHA-256' or",
        ),
        (
            {"KAFKA_SASL_USERNAME": "procmon", "KAFKA_SASL_PASSWORD": "pw"},
            "PROCMON_KAFKA_SASL_USERNAME is set but PROCMON_KAFKA_SECURITY_PROTOCOL is PLAINTEXT",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "KAFKA_SASL_USERNAME": "procmon",
                "KAFKA_SASL_PASSWORD": "pw",
                "KAFKA_SASL_PASSWORD_FILE": __file__,
            },
            "give one of PROCMON_KAFKA_SASL_PASSWORD or PROCMON_KAFKA_SASL_PASSWORD_FILE with "
            "SASL_PLAINTEXT, not PROCMON_KAFKA_SASL_PASSWORD and PROCMON_KAFKA_SASL_PASSWORD_FILE",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/no/such/ca.pem"},
            "PROCMON_KAFKA_SSL_CAFILE: Path does not point to a file",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_PASSWORD": "pw"},
            "PROCMON_KAFKA_SSL_KEY_PASSWORD is set without PROCMON_KAFKA_SSL_CERTFILE",
        ),
        (
            {"KAFKA_SSL_CAFILE": __file__},
            "PROCMON_KAFKA_SSL_CAFILE is set but PROCMON_KAFKA_SECURITY_PROTOCOL is PLAINTEXT",
        ),
    ],
)
def test_inconsistent_security_settings_are_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], problem: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(f"PROCMON_{name}", value)
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert problem in str(refused.value)
    assert str(refused.value).startswith("invalid settings: ")
    assert "Value error" not in str(refused.value)


def test_an_empty_password_file_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    for name, value in SCRAM.items():
        monkeypatch.setenv(f"PROCMON_{name.upper()}", str(value))
    monkeypatch.setenv("PROCMON_KAFKA_SASL_PASSWORD", "")  # a compose file's `VAR=`: unset
    monkeypatch.setenv("PROCMON_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "empty"))
    with pytest.raises(ConfigurationError, match=r"PROCMON_KAFKA_SASL_PASSWORD_FILE .* is empty"):
        load_settings()


def test_the_tls_context_trusts_the_ca_file_and_checks_the_broker(tls_files: TlsFiles) -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tls_files.ca)
    context = kafka_client_options(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    subjects = [ca["subject"] for ca in context.get_ca_certs()]
    assert subjects == [((("commonName", "procmon test CA"),),)]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_a_client_key_needs_its_password(tls_files: TlsFiles) -> None:
    def client(key_password: str) -> Settings:
        return Settings(
            kafka_security_protocol="SSL",
            kafka_ssl_certfile=tls_files.client_cert,
            kafka_ssl_keyfile=tls_files.client_key,
            kafka_ssl_key_password=key_password,
        )

    assert "ssl_context" in kafka_client_options(client(KEY_PASSWORD))
    with pytest.raises(
        ConfigurationError, match=r"the TLS files for Kafka .*client\.key.* cannot be used"
    ):
        kafka_client_options(client("wrong"))


async def test_producer_admin_and_consumer_speak_tls_to_the_broker(
    tls_broker: str, tls_files: TlsFiles
) -> None:
    settings = tls(tls_broker, tls_files.ca)
    await ensure_topics(settings)
    assert await publish_raw(settings, [(b"machine", b"over tls")]) == 1
    consumer = AIOKafkaConsumer(
        settings.topic,
        bootstrap_servers=tls_broker,
        auto_offset_reset="earliest",
        **kafka_client_options(settings),
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"machine", b"over tls")


async def test_a_broker_certificate_of_another_ca_is_refused(
    tls_broker: str, tls_files: TlsFiles
) -> None:
    settings = tls(tls_broker, tls_files.other_ca)
    with pytest.raises(CollectorError, match="Unable to bootstrap"):
        await publish_raw(settings, [(b"machine", b"never sent")])


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_a_scram_login_the_broker_refuses_is_a_clear_error(
    login_broker: str, mechanism: str
) -> None:
    settings = scram(
        kafka_sasl_mechanism=mechanism, kafka_bootstrap=login_broker, kafka_idempotence=False
    )
    expected = f"the Kafka broker at {login_broker} refused {mechanism} authentication as 'procmon'"
    with pytest.raises(KafkaAuthenticationError, match=expected):
        await publish_raw(settings, [(b"machine", b"never sent")])


async def test_topic_creation_and_replay_log_in_too(login_broker: str) -> None:
    settings = scram(kafka_bootstrap=login_broker)
    with pytest.raises(KafkaAuthenticationError):
        await ensure_topics(settings)
    with pytest.raises(KafkaAuthenticationError):
        await replay_topic(settings, idle_seconds=0.1)


async def test_a_client_without_a_login_is_refused_differently(login_broker: str) -> None:
    settings = Settings(kafka_bootstrap=login_broker, kafka_idempotence=False)
    with pytest.raises(CollectorError, match="Unable to bootstrap"):
        await publish_raw(settings, [(b"machine", b"never sent")])


async def test_a_scram_login_goes_over_tls_with_sasl_ssl(
    tls_login_broker: str, tls_files: TlsFiles
) -> None:
    settings = scram(
        kafka_security_protocol="SASL_SSL",
        kafka_bootstrap=tls_login_broker,
        kafka_idempotence=False,
        kafka_ssl_cafile=tls_files.ca,
    )
    with pytest.raises(KafkaAuthenticationError, match="refused SCRAM-SHA-512 authentication"):
        await publish_raw(settings, [(b"machine", b"never sent")])
