"""Generated ``top -b`` layouts, rendered as top lays them out, read back to the same rows."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from parsers.errors import ParseError
from parsers.rows import ProcessRow
from parsers.top_linux import parse_top_linux
from tests.parsers.strategies import TOP_FIELDS, TOP_TABLES, TopTable

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
TOP_LINE = "top - 01:00:00 up 3 days,  2:01,  1 user,  load average: 0.10, 0.20, 0.30"
KIB = 1024
# Fields read into rows whose zero top leaves blank when told to suppress zeros.
_SUPPRESSIBLE = frozenset({"PPID", "PR", "NI", "VIRT", "RES", "%CPU", "%MEM", "TIME+", "TIME"})


def _text(name: str, value: Any) -> str:
    """The value as top prints it before fitting it to its width."""
    if name in ("%CPU", "%MEM"):
        return f"{value // 10}.{value % 10}"
    if name == "TIME+":
        return f"{value // 6000}:{value // 100 % 60:02d}.{value % 100:02d}"
    if name == "TIME":
        return f"{value // 60}:{value % 60:02d}"
    return str(value)


def _fit(text: str, width: int, left: bool) -> str:
    """``text`` in ``width`` characters: cut with a ``+`` when longer, padded otherwise."""
    if len(text) > width:
        text = text[: width - 1] + "+"
    return f"{text:<{width}}" if left else f"{text:>{width}}"


def render(table: TopTable) -> tuple[str, list[dict[str, str]]]:
    """The listing top prints for ``table``, and each row's shown (fitted) texts."""
    widths = {name: max(len(name), table.widths[name]) for name in table.fields}
    header = " ".join(_fit(name, widths[name], TOP_FIELDS[name][1]) for name in table.fields)
    lines, shown = [header.rstrip()], []
    for process in table.processes:
        texts = {}
        for name in table.fields:
            value = process[name]
            blank = table.zero_suppress and name in _SUPPRESSIBLE and value == 0
            texts[name] = "" if blank else _fit(_text(name, value), widths[name], True).rstrip()
        shown.append(texts)
        cells = [_fit(texts[name], widths[name], TOP_FIELDS[name][1]) for name in table.fields]
        lines.append(" ".join(cells).rstrip())
    return "\n".join((TOP_LINE, "", *lines)), shown


def expected_row(
    line_number: int, fields: list[str], process: dict[str, Any], shown: dict[str, str]
) -> ProcessRow:
    """The row a reader of ``shown`` should make, written from the generated values."""
    cut = {name for name, text in shown.items() if text.endswith("+")}
    user = "USER" if "USER" in fields else "RUSER" if "RUSER" in fields else None
    time = "TIME+" if "TIME+" in fields else "TIME" if "TIME" in fields else None
    truncated = [
        field
        for field, name in (
            ("process_name", "COMMAND"),
            ("user", user),
            ("tty", "TTY"),
            ("threads", "nTH"),
        )
        if name in cut
    ]

    def value(name: str, convert: Any = lambda v: v) -> Any:
        return convert(process[name]) if name in fields else None

    res = value("RES", lambda kib: kib * KIB)
    return ProcessRow(
        line_number=line_number,
        pid=process["PID"],
        process_name=shown["COMMAND"],
        ppid=value("PPID"),
        user=None if user is None else shown[user],
        cpu_percent=value("%CPU", lambda tenths: tenths / 10),
        memory_percent=value("%MEM", lambda tenths: tenths / 10),
        rss_bytes=res,
        vsz_bytes=value("VIRT", lambda kib: kib * KIB),
        memory_usage_bytes=res,
        status=None,
        status_raw=value("S"),
        cpu_time_seconds=None
        if time is None
        else process[time] / 100
        if time == "TIME+"
        else float(process[time]),
        tty=None if "TTY" not in fields or process["TTY"] == "?" else shown["TTY"],
        threads=None if "nTH" in cut else value("nTH"),
        nice=value("NI"),
        priority=None if "PR" not in fields or process["PR"] == "rt" else process["PR"],
        truncated_fields=tuple(truncated),
    )


@given(TOP_TABLES)
def test_any_layout_reads_back(table: TopTable) -> None:
    raw, shown = render(table)
    rows = parse_top_linux(raw, AT).rows
    assert len(rows) == len(table.processes)
    for number, (row, process, texts) in enumerate(
        zip(rows, table.processes, shown, strict=True), start=4
    ):
        assert row._replace(status=None) == expected_row(number, table.fields, process, texts)


_EVERY_KIND = "  PID USER     ENVIRON    nTH    RES COMMAND   %CPU TTY      EXE"


@given(st.lists(st.text(" 0123456789abc+?-.:[]`", max_size=70), max_size=10))
def test_rows_read_column_by_column_parse_or_are_refused(lines: list[str]) -> None:
    raw = "\n".join((TOP_LINE, "", _EVERY_KIND, *lines))
    with suppress(ParseError):
        rows = parse_top_linux(raw, AT).rows
        assert all(row.pid >= 0 for row in rows)
