"""The worker's Faust app connects as the Kafka security settings say, like every other client."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from procmon.kafka_security import kafka_client_options
from procmon.settings import Settings
from streams.app import build_app
from streams.metrics import WorkerMetrics
from tests.kafka_tls import make_tls_files


def _faust_client_auth(settings: Settings) -> dict[str, object]:
    """What the worker app's consumer, producer and admin client are given to connect with."""
    app = build_app(settings, WorkerMetrics())
    return dict(credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context))


def _ca_subjects(context: object) -> list[object]:
    assert isinstance(context, ssl.SSLContext)
    return [ca["subject"] for ca in context.get_ca_certs()]


def test_a_plaintext_broker_gets_no_credentials(tmp_path: Path) -> None:
    settings = Settings(worker_data_dir=tmp_path)
    assert _faust_client_auth(settings) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_the_worker_logs_in_as_the_other_clients_do(tmp_path: Path, protocol: str) -> None:
    ca = make_tls_files(tmp_path).ca
    settings = Settings(
        worker_data_dir=tmp_path,
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="worker",
        kafka_sasl_password="w0rker-pw",
        kafka_ssl_cafile=ca if protocol == "SASL_SSL" else None,
    )
    auth = _faust_client_auth(settings)
    expected = kafka_client_options(settings)
    assert {k: v for k, v in auth.items() if k != "ssl_context"} == {
        k: v for k, v in expected.items() if k != "ssl_context"
    }
    assert auth["sasl_plain_password"] == "w0rker-pw"
    if protocol == "SASL_SSL":
        assert _ca_subjects(auth["ssl_context"]) == _ca_subjects(expected["ssl_context"])
    else:
        assert auth["ssl_context"] is None


def test_tls_alone_gives_the_worker_the_ca(tmp_path: Path) -> None:
    ca = make_tls_files(tmp_path).ca
    settings = Settings(
        worker_data_dir=tmp_path, kafka_security_protocol="SSL", kafka_ssl_cafile=ca
    )
    auth = _faust_client_auth(settings)
    assert auth["security_protocol"] == "SSL"
    assert _ca_subjects(auth["ssl_context"]) == [((("commonName", "procmon test CA"),),)]
