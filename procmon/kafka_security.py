"""How every Kafka client of procmon authenticates: TLS and SASL from the settings.

One function, :func:`kafka_client_options`, turns the ``PROCMON_KAFKA_SECURITY_PROTOCOL``,
``PROCMON_KAFKA_SASL_*`` and ``PROCMON_KAFKA_SSL_*`` settings into the keyword arguments of an
aiokafka client (producer, consumer, admin); the worker's Faust app takes its credentials from
the same options (:mod:`streams.credentials`). :func:`security_problem` is the settings' check
at start-up, so that a missing user name or a TLS file set for a plaintext broker is one clear
error before any connection is tried.

The password is never logged: it is a setting that ``procmon settings`` masks, read from a
file when one is given (a mounted secret, read each time a client is made, so that a rotated
password is picked up by the next connection).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from procmon.errors import ConfigurationError, KafkaAuthenticationError

if TYPE_CHECKING:
    from procmon.settings import Settings

__all__ = [
    "SECURITY_SETTINGS",
    "kafka_client_options",
    "sasl_password",
    "security_problem",
    "start_client",
]

_PASSWORD_SETTINGS = ("kafka_sasl_password", "kafka_sasl_password_file")
_SASL_SETTINGS = ("kafka_sasl_mechanism", "kafka_sasl_username", *_PASSWORD_SETTINGS)
# What only a client certificate uses.
_CLIENT_KEY_SETTINGS = ("kafka_ssl_keyfile", "kafka_ssl_key_password")
_SSL_FILE_SETTINGS = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
_SSL_SETTINGS = (*_SSL_FILE_SETTINGS, "kafka_ssl_key_password")
# The optional settings of this module; the protocol is the one that always has a value.
SECURITY_SETTINGS = (*_SASL_SETTINGS, *_SSL_SETTINGS)


def _variable(name: str) -> str:
    return f"PROCMON_{name.upper()}"


def _is_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def _is_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in {"SSL", "SASL_SSL"}


def security_problem(settings: Settings) -> str | None:
    """What is wrong with the Kafka security settings taken together; None when nothing is.

    A SASL protocol needs a mechanism, a user name and one password (the setting or the
    file); SASL or TLS settings given for a protocol that does not use them are refused
    rather than ignored, since a forgotten protocol would connect without them.
    """
    protocol = settings.kafka_security_protocol
    problems = []
    if _is_sasl(settings):
        problems += [
            f"{_variable(name)} is required with {protocol}"
            for name in ("kafka_sasl_mechanism", "kafka_sasl_username")
            if getattr(settings, name) is None
        ]
        given = [n for n in _PASSWORD_SETTINGS if getattr(settings, n) is not None]
        if len(given) != 1:
            problems.append(
                f"give one of PROCMON_KAFKA_SASL_PASSWORD or PROCMON_KAFKA_SASL_PASSWORD_FILE "
                f"with {protocol}, not {' and '.join(map(_variable, given)) or 'neither'}"
            )
        elif settings.kafka_sasl_password_file is not None:
            problems += _password_file_problems(settings.kafka_sasl_password_file)
    else:
        problems += [
            f"{_variable(name)} is set but PROCMON_KAFKA_SECURITY_PROTOCOL is {protocol} "
            "(SASL_PLAINTEXT or SASL_SSL use it)"
            for name in _SASL_SETTINGS
            if getattr(settings, name) is not None
        ]
    if not _is_tls(settings):
        problems += [
            f"{_variable(name)} is set but PROCMON_KAFKA_SECURITY_PROTOCOL is {protocol} "
            "(SSL or SASL_SSL use it)"
            for name in _SSL_SETTINGS
            if getattr(settings, name) is not None
        ]
    elif settings.kafka_ssl_certfile is None:
        problems += [
            f"{_variable(name)} is set without PROCMON_KAFKA_SSL_CERTFILE"
            for name in _CLIENT_KEY_SETTINGS
            if getattr(settings, name) is not None
        ]
    return "; ".join(problems) or None


def _password_file_problems(path: Path) -> list[str]:
    try:
        password = _read_password_file(path)
    except ConfigurationError as exc:
        return [str(exc)]
    return [] if password else [f"PROCMON_KAFKA_SASL_PASSWORD_FILE {path} is empty"]


def _read_password_file(path: Path) -> str:
    try:
        # A secret file written by `echo` or an editor ends in a newline that is no part of it.
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"PROCMON_KAFKA_SASL_PASSWORD_FILE {path} cannot be read: {exc}"
        ) from exc


def sasl_password(settings: Settings) -> str | None:
    """The SASL password: the setting's, else the password file's (read now), else None."""
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password
    if settings.kafka_sasl_password_file is None:
        return None
    return _read_password_file(settings.kafka_sasl_password_file)


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    # Imported here: settings.py imports this module for its check, and the processes that
    # never talk to Kafka (the API) should not pay for importing aiokafka.
    from aiokafka.helpers import create_ssl_context

    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            password=settings.kafka_ssl_key_password,
        )
    except (ssl.SSLError, OSError) as exc:
        files = [
            f"{_variable(name)}={getattr(settings, name)}"
            for name in _SSL_FILE_SETTINGS
            if getattr(settings, name) is not None
        ]
        raise ConfigurationError(
            f"the TLS files for Kafka ({', '.join(files) or 'the system CAs'}) cannot be "
            f"used: {exc}"
        ) from exc
    return context


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client: the security protocol, SASL and TLS.

    ``ssl_context`` is built from the CA, certificate and key files (the system's CAs when no
    CA file is given); raises ConfigurationError when they cannot be used.
    """
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if _is_sasl(settings):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": sasl_password(settings),
        }
    if _is_tls(settings):
        options["ssl_context"] = _ssl_context(settings)
    return options


class _Startable(Protocol):
    def start(self) -> Awaitable[None]: ...


async def start_client(client: _Startable, settings: Settings) -> None:
    """Start an aiokafka client; a broker refusing a SCRAM login raises KafkaAuthenticationError.

    aiokafka reads only a SCRAM server-final message that carries the server's signature: one
    that carries an error instead (RFC 5802's ``e=``, as in ``e=unknown-user``, which brokers
    other than Apache Kafka send) escapes it as a KeyError or ValueError about the message.
    """
    try:
        await client.start()
    except (KeyError, ValueError) as exc:
        mechanism = settings.kafka_sasl_mechanism
        if not _is_sasl(settings) or mechanism is None or not mechanism.startswith("SCRAM-"):
            raise
        raise KafkaAuthenticationError(
            f"the Kafka broker at {settings.kafka_bootstrap} refused {mechanism} "
            f"authentication as {settings.kafka_sasl_username!r}: check "
            "PROCMON_KAFKA_SASL_USERNAME and the password"
        ) from exc
