"""The row assembler: the compiled one is in use, and gives what its Python twin gives.

Shapes other than ps aux's (ps -o's start and text columns) are in test_row_assembly_shapes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import parsers.ps_table
from parsers import parse_listing
from parsers.errors import ParseError
from parsers.line_shapes import words
from parsers.row_assembly import (
    ASSEMBLER,
    PlanEntry,
    Source,
    assemble_rows,
    assemble_rows_python,
    constant,
    count,
    lookup,
    program_lookup,
    row_plan,
    shared_memo,
    text,
)
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture

Assembler = Callable[..., list[Any] | int]
OBSERVED_AT = datetime(2026, 11, 28, 13, 43, 31, tzinfo=UTC)
FOUR = words(4)


def upper_unless_bad(word: str) -> str:
    """A reader that refuses words starting with ``!``, as readers of bad values do."""
    if word.startswith("!"):
        raise ValueError(word)
    return word.upper()


def plan() -> tuple[PlanEntry, ...]:
    """A plan using every source, with fresh memos."""
    return row_plan(
        pid=count(1),
        process_name=program_lookup(3, upper_unless_bad),
        user=text(0),
        command_line=text(3),
        rss_bytes=count(2, 1024),
        status_raw=lookup(0, upper_unless_bad),
        tty=constant("pts/0"),
    )


def both(lines: list[str]) -> tuple[list[Any] | int, list[Any] | int]:
    """What the compiled and the Python assembler make of ``lines``, each with its own plan."""
    return (
        assemble_rows(lines, 2, FOUR, plan(), ProcessRow),
        assemble_rows_python(lines, 2, FOUR, plan(), ProcessRow),
    )


def test_the_compiled_assembler_is_in_use() -> None:
    # make install compiles it; the Python twin is for machines without a C compiler.
    assert ASSEMBLER == "c"
    assert assemble_rows is not assemble_rows_python


def test_rows_by_plan() -> None:
    lines = ["root 1 10 /sbin/init splash  \r", "", "  \t", "bob 22 0 [kworker/0:1 x]"]
    compiled, python = both(lines)
    assert compiled == python
    assert compiled == [
        ProcessRow(
            line_number=2,
            pid=1,
            process_name="/SBIN/INIT",
            user="root",
            command_line="/sbin/init splash",
            rss_bytes=10 * 1024,
            status_raw="ROOT",
            tty="pts/0",
        ),
        ProcessRow(
            line_number=5,
            pid=22,
            process_name="[KWORKER/0:1 X]",
            user="bob",
            command_line="[kworker/0:1 x]",
            rss_bytes=0,
            status_raw="BOB",
            tty="pts/0",
        ),
    ]
    assert all(type(row) is ProcessRow for row in compiled)


def test_compiled_rows_are_left_to_reference_counting() -> None:
    rows = assemble_rows(["root 1 10 /sbin/init"], 2, FOUR, plan(), ProcessRow)
    assert isinstance(rows, list)
    assert not gc.is_tracked(rows[0])


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("root 1 10", "a column short"),
        ("root 1x 10 cmd", "a count with a letter"),
        ("root +1 10 cmd", "a count with a sign"),
        ("root \u0661 10 cmd", "a count of non-ASCII digits"),
        ("root 1 1234567890123456 cmd", "a count of 16 digits"),
        ("!root 1 10 cmd", "a reader's ValueError"),
        ("root 1 10 !cmd arg", "a program reader's ValueError"),
    ],
)
def test_a_line_that_does_not_read_gives_its_index(line: str, why: str) -> None:
    assert both(["root 1 10 cmd", "", line, "root 2 10 cmd"]) == (2, 2), why


def test_other_errors_of_readers_are_raised() -> None:
    def broken(word: str) -> str:
        raise KeyError(word)

    bad_plan = row_plan(pid=count(1), process_name=lookup(0, broken))
    for assemble in (assemble_rows, assemble_rows_python):
        with pytest.raises(KeyError):
            assemble(["root 1"], 1, words(2), bad_plan, ProcessRow)


@pytest.mark.parametrize(
    "bad_plan",
    [
        ((9, 0, None),),
        ((Source.TEXT, 7, None),),
        ((Source.COUNT, 0, 0),),
        ((Source.LOOKUP, 0, "not a memo"),),
        ("not an entry",),
    ],
)
def test_the_compiled_assembler_refuses_a_bad_plan(bad_plan: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="plan"):
        assemble_rows(["a b"], 1, words(2), bad_plan, ProcessRow)


def test_the_compiled_assembler_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError):
        assemble_rows(("a b",), 1, words(2), (), ProcessRow)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="line 0"):
        assemble_rows([b"a b"], 1, words(2), (), ProcessRow)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="shape"):
        assemble_rows(["a b"], 1, (), (), ProcessRow)  # type: ignore[arg-type]


# Words of digits (counts) or of anything (texts, readers' input: "!" refuses), separated by
# any run of what str.split counts as whitespace, beyond space and tab too.
_SPACE = st.text(st.sampled_from(list(" \t\r\x0b\x1c\x85\xa0\u2003\u3000")), max_size=3)
_DIGITS = st.from_regex(r"[0-9]{1,16}", fullmatch=True)
_WORD = st.one_of(
    _DIGITS,
    st.text(st.sampled_from(list("ab1![] é日\u0661\U0001f600")), min_size=1, max_size=8),
)
_GAP = _SPACE.filter(bool)
_ANY_LINE = st.builds(
    lambda pairs, end: "".join(space + word for space, word in pairs) + end,
    st.lists(st.tuples(_SPACE, _WORD), max_size=6),
    _SPACE,
)
# Lines shaped as the plan expects (a text, two counts, a command), mostly readable.
_PLAN_LINE = st.builds(
    lambda words, gaps, end: "".join(g + w for g, w in zip(gaps, words, strict=False)) + end,
    st.tuples(_WORD, _DIGITS, _DIGITS, _WORD, _WORD),
    st.lists(_GAP, min_size=5, max_size=5),
    _SPACE,
)
_LINE = st.one_of(_PLAN_LINE, _PLAN_LINE, _PLAN_LINE, _ANY_LINE)


@given(st.lists(_LINE, max_size=8))
def test_the_compiled_assembler_agrees_with_its_python_twin(lines: list[str]) -> None:
    compiled, python = both(lines)
    assert compiled == python


@pytest.mark.parametrize(
    ("fixture", "os_type", "command"),
    [
        ("linux-centos-7.7/ps-axu.out", "linux", "ps aux"),
        ("macos-10.11.6/ps-axu.out", "macos", "ps aux"),
        ("linux-ubuntu-18.04/ps-ef.out", "linux", "ps -ef"),
        ("macos-10.11.6/ps-ef.out", "macos", "ps -ef"),
    ],
)
def test_listings_read_alike_by_both(
    fixture: str, os_type: str, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = read_fixture(fixture)
    compiled = parse_listing(raw, os_type=os_type, command=command, observed_at=OBSERVED_AT)
    monkeypatch.setattr(parsers.ps_table, "assemble_rows", assemble_rows_python)
    python = parse_listing(raw, os_type=os_type, command=command, observed_at=OBSERVED_AT)
    assert compiled.rows == python.rows
    assert len(compiled.rows) > 20
    broken = raw + "root x 0.0 0.0 1 1 ? S 10:00 0:00 cmd\n"
    with pytest.raises(ParseError) as from_python:
        parse_listing(broken, os_type=os_type, command=command, observed_at=OBSERVED_AT)
    monkeypatch.undo()
    with pytest.raises(ParseError) as from_compiled:
        parse_listing(broken, os_type=os_type, command=command, observed_at=OBSERVED_AT)
    assert str(from_compiled.value) == str(from_python.value)


class CountingUpper:
    """A reader that says what it was asked to read."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, word: str) -> str:
        self.calls.append(word)
        return word.upper()


def test_shared_memos_span_listings_and_are_bounded() -> None:
    counted_upper = CountingUpper()
    for _ in range(2):
        shared_plan = row_plan(pid=count(1), process_name=lookup(0, counted_upper, shared=True))
        assert assemble_rows(["a 1", "b 2", "a 3"], 1, words(2), shared_plan, ProcessRow) != 0
    assert counted_upper.calls == ["a", "b"]
    memo = shared_memo(counted_upper)
    assert memo == {"a": "A", "b": "B"}
    memo.update((str(n), str(n)) for n in range(65_536))
    assert shared_memo(counted_upper) == {}


def test_unshared_memos_are_per_listing() -> None:
    counted_upper = CountingUpper()
    for _ in range(2):
        own_plan = row_plan(pid=count(1), process_name=lookup(0, counted_upper))
        assemble_rows(["a 1", "a 2"], 1, words(2), own_plan, ProcessRow)
    assert counted_upper.calls == ["a", "a"]
