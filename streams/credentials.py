"""The worker's Kafka credentials: Faust's form of the options every procmon client takes.

Faust hands its ``broker_credentials`` to aiokafka for its consumer, producer and admin client;
they are built here from :func:`procmon.kafka_security.kafka_client_options`, so that the worker
connects exactly as the collectors and ``procmon replay`` do.
"""

from __future__ import annotations

from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT

from procmon.kafka_security import kafka_client_options
from procmon.settings import Settings

__all__ = ["broker_credentials"]


def broker_credentials(settings: Settings) -> CredentialsT | None:
    """Faust's ``broker_credentials`` under these settings; None for a plaintext broker."""
    options = kafka_client_options(settings)
    protocol = options["security_protocol"]
    if protocol.startswith("SASL_"):
        # Faust chooses SASL_SSL over SASL_PLAINTEXT by whether a TLS context is given.
        return SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=options.get("ssl_context"),
        )
    if protocol == "SSL":
        return SSLCredentials(options["ssl_context"])
    return None
