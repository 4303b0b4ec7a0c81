"""Messages to poison a worker with: random bytes, near-valid envelopes, oversized dead letters.

Each near-valid envelope is a valid one with one thing changed (NULs, lone surrogates, JSON
nested 100,000 deep, huge fields, wrong types, extreme or naive timestamps, a wrong key or
hash, a listing that does not parse); valid ones, and repeats, come mixed in.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from procmon.envelope import content_hash
from tests.e2e.harness import HEADER, snapshot_envelopes

__all__ = ["Generated", "big_listing", "poison_batches"]


def big_listing(lines: int, bad_line: int) -> str:
    """A `ps aux` of ``lines`` processes (about 95 bytes each) whose ``bad_line`` does not parse."""
    rows = [
        f"user{pid % 97:02d} {pid} 0.{pid % 10} 0.1 {100_000 + pid * 7} {20_000 + pid * 3} ? "
        f"S 10:00 0:01 /usr/lib/app/worker --id {pid:06d} --shard {pid % 13} --mode batch"
        for pid in range(1, lines + 1)
    ]
    rows[bad_line - 1] = "this line is no process at all"
    return HEADER + "\n" + "\n".join(rows) + "\n"


_serial = itertools.count()
_NESTED = "[" * 100_000 + "]" * 100_000


@dataclass(frozen=True)
class Generated:
    """A message to produce, and the content hash it is stored under if it is stored."""

    key: bytes | None
    value: bytes
    content_hash: str | None = None

    def __repr__(self) -> str:
        # A falsifying example names its messages in a line each, not a megabyte each.
        value = self.value if len(self.value) <= 200 else self.value[:200] + b"..."
        return f"Generated({self.key!r}, {value!r} ({len(self.value)} bytes))"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _valid() -> dict[str, Any]:
    """A valid envelope, as JSON, of a listing no other message holds."""
    n = next(_serial)
    [envelope] = snapshot_envelopes(1, start=10_000 + n)
    fields: dict[str, Any] = json.loads(envelope.to_bytes())
    fields["machine_id"] = fields["machine_name"] = f"poison-{n % 5}"
    return fields


def _message(
    fields: dict[str, Any], key: bytes | None = None, text: str | None = None
) -> Generated:
    """``fields`` (or ``text``, JSON made by hand) as a message keyed by its machine id."""
    body = json.dumps(fields) if text is None else text
    machine_id = fields.get("machine_id")
    if key is None and isinstance(machine_id, str):
        key = machine_id.encode("utf-8", "surrogatepass")
    content_hash = fields.get("content_hash")
    valid_hash = isinstance(content_hash, str) and re.fullmatch("[0-9a-f]{64}", content_hash)
    return Generated(key, body.encode("utf-8"), content_hash if valid_hash else None)


def _mutated(field: str, value: object) -> Callable[[], Generated]:
    def make() -> Generated:
        fields = _valid()
        fields[field] = value
        return _message(fields)

    return make


def _with_text(edit: Callable[[str], str]) -> Callable[[], Generated]:
    def make() -> Generated:
        fields = _valid()
        return _message(fields, text=edit(json.dumps(fields)))

    return make


def _keyed(key: bytes) -> Callable[[], Generated]:
    def make() -> Generated:
        return _message(_valid(), key=key)

    return make


def _missing(field: str) -> Callable[[], Generated]:
    def make() -> Generated:
        fields = _valid()
        del fields[field]
        return _message(fields)

    return make


def _listing(raw_output: str) -> Callable[[], Generated]:
    def make() -> Generated:
        fields = _valid()
        fields |= {"raw_output": raw_output, "content_hash": content_hash(raw_output)}
        return _message(fields)

    return make


def _nul_hash() -> Generated:
    fields = _valid()
    fields["content_hash"] = fields["content_hash"][:20] + "\x00" + fields["content_hash"][21:]
    return _message(fields)


def _valid_message() -> Generated:
    return _message(_valid())


_MAKERS: list[Callable[[], Generated]] = [
    _mutated("machine_id", "poison\x00nul"),
    _nul_hash,
    _with_text(lambda text: text[:-1] + ', "bad\\u0000field": 1}'),
    _mutated("machine_id", "poison-\ud800"),
    _mutated("machine_name", "\udfff"),
    _with_text(lambda text: text[:-1] + f', "deep": {_NESTED}}}'),
    _with_text(lambda text: _NESTED),
    _mutated("machine_name", "x" * 300_000),
    _with_text(lambda text: text[:-1] + f', "{"y" * 200_000}": 1}}'),
    _mutated("machine_id", 12345),
    _mutated("timestamp", 1_764_000_000),
    _mutated("raw_output", ["a", "b"]),
    _mutated("schema_version", "1"),
    _mutated("os_type", None),
    _mutated("timestamp", "9999-12-31T23:59:59-14:00"),
    _mutated("timestamp", "0001-01-01T00:00:00+14:00"),
    _mutated("timestamp", "2026-11-28T12:00:00"),
    _mutated("content_hash", "0" * 64),
    _keyed(b"someone-else"),
    _missing("os_type"),
    _listing("this is no listing\n"),
    _listing(""),
    _listing(HEADER + "\nroot 1 0.0 0.1 10 5 ? S 10:00 0:01 init\0\n"),
]

_generated = st.one_of(
    st.builds(Generated, st.one_of(st.none(), st.binary(max_size=12)), st.binary(max_size=300)),
    st.sampled_from(_MAKERS).map(lambda make: make()),
    st.builds(_valid_message),
)


@st.composite
def poison_batches(draw: st.DrawFn) -> list[Generated]:
    messages = draw(st.lists(_generated, min_size=1, max_size=25))
    # Now and then a valid one twice, and a dead letter too large for its topic.
    if draw(st.booleans()):
        messages.append(messages[-1])
    if draw(st.integers(0, 3)) == 0:
        big = big_listing(12_000, bad_line=draw(st.integers(1, 12_000)))
        messages.insert(draw(st.integers(0, len(messages))), _listing(big)())
    return messages
