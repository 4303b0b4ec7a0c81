"""What the command line says, in one line, when the user's surroundings are at fault.

A missing or unreadable file, text that is not UTF-8, a service that does not answer, the
server's packages missing from a client's install: each is the user's to fix, so it gets one
line on stderr and a non-zero exit rather than a traceback. Bugs keep their tracebacks.
"""

from __future__ import annotations

import sys

from procmon.errors import CollectorError

__all__ = ["read_text", "user_error"]

_SERVER_PACKAGES = frozenset(
    {"aiokafka", "faust", "mode", "psycopg", "psycopg_pool", "redis", "starlette", "strawberry"}
    | {"uvicorn", "prometheus_client", "cramjam", "pyarrow"}
)


def read_text(name: str) -> str:
    """The UTF-8 text of the file ``name``, or of stdin for ``-``; else a CollectorError."""
    where = "stdin" if name == "-" else name
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as file:
                data = file.read()
    except OSError as exc:
        raise CollectorError(f"cannot read {where}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CollectorError(f"{where} is not UTF-8 text: {exc}") from exc


def user_error(exc: BaseException) -> str | None:
    """The one line that explains ``exc`` to the user, or None when it is a bug."""
    # Imported here, on the way out: `procmon parse` starts without logging.
    from procmon.logs import mask_secrets

    text = _explain(exc)
    return None if text is None else mask_secrets(text)


def _explain(exc: BaseException) -> str | None:
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in _SERVER_PACKAGES:
        return (
            f"this command needs the server's packages ({exc}); "
            "install them with: pip install 'procmon-fleet[server]'"
        )
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror}"
    service = _service_of(exc)
    if service is not None:
        return f"cannot reach {service}: {exc}"
    if isinstance(exc, ConnectionError):
        return f"cannot connect: {exc}"
    return None


def _service_of(exc: BaseException) -> str | None:
    # By module, so that a client-only install, without these packages, need not import them.
    module = type(exc).__module__.split(".")[0]
    name = type(exc).__name__
    if module == "psycopg" and name in {"OperationalError", "ConnectionTimeout"}:
        return "PostgreSQL"
    if module == "psycopg_pool" and name == "PoolTimeout":
        return "PostgreSQL"
    if module == "redis" and name in {"ConnectionError", "TimeoutError"}:
        return "Redis"
    if module in {"aiokafka", "kafka"} and ("Connection" in name or "Timeout" in name):
        return "the Kafka broker"
    return None
