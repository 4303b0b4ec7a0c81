"""TLS for the Kafka tests: a CA and certificates made with ``openssl``, and a TLS proxy.

The dev broker serves no TLS, so a test that needs one puts :func:`tls_proxy` in front of it:
the proxy ends TLS with a certificate of the test's CA for 127.0.0.1 and forwards the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEY_PASSWORD", "TlsFiles", "make_tls_files", "tls_proxy"]

KEY_PASSWORD = "key-s3cret"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A CA, a broker certificate it signed, a client certificate, and a CA that signed neither."""

    ca: Path
    broker_cert: Path
    broker_key: Path
    client_cert: Path
    client_key: Path  # encrypted with KEY_PASSWORD
    other_ca: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
        "-days", "2", "-subj", f"/CN=procmon test {name}",
    )  # fmt: skip
    return cert, key


def _signed(directory: Path, name: str, ca: tuple[Path, Path], *key_options: str) -> Path:
    """A certificate for 127.0.0.1 signed by ``ca``; its key is ``<name>.key``."""
    csr, cert, key = (directory / f"{name}.{ext}" for ext in ("csr", "pem", "key"))
    _openssl(
        "req", "-newkey", "rsa:2048", *key_options, "-keyout", key, "-out", csr,
        "-subj", f"/CN={name}",
    )  # fmt: skip
    extensions = directory / f"{name}.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", extensions,
    )  # fmt: skip
    return cert


def make_tls_files(directory: Path) -> TlsFiles:
    """Make the CA and certificates of :class:`TlsFiles` in ``directory``."""
    ca = _self_signed(directory, "CA")
    return TlsFiles(
        ca=ca[0],
        broker_cert=_signed(directory, "broker", ca, "-nodes"),
        broker_key=directory / "broker.key",
        client_cert=_signed(directory, "client", ca, "-passout", f"pass:{KEY_PASSWORD}"),
        client_key=directory / "client.key",
        other_ca=_self_signed(directory, "other-CA")[0],
    )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def tls_proxy(files: TlsFiles, port: int, target_port: int) -> AsyncIterator[None]:
    """Serve TLS on ``port`` (the broker's certificate) and forward to ``target_port``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.broker_cert, files.broker_key)

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(forward, "127.0.0.1", port, ssl=context)
    try:
        yield
    finally:
        server.close()
