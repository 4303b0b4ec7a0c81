"""ps -o shapes in the row assembler: start columns of several words, text columns, a last
column under its header; the compiled assembler gives what its Python twin gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import parsers.ps_table
from parsers import parse_listing
from parsers.errors import ParseError
from parsers.line_shapes import MisplacedColumnError, Shape, Span, shape, split_columns
from parsers.row_assembly import (
    PlanEntry,
    assemble_rows,
    assemble_rows_python,
    lookup,
    program_lookup,
    text,
)
from tests.parsers.fixtures import read_fixture

W, WS, T, R = Span.WORD, Span.WORDS, Span.TEXT, Span.REST
MORE = {"Mon": 4, "Oct": 1, "a": 2}


class Texts(tuple[Any, ...]):
    """A row of every column's text, then the column readers' results."""


def upper_unless_bad(word: str) -> str:
    """A reader that refuses words starting with ``!``, as readers of bad values do."""
    if word.startswith("!"):
        raise ValueError(word)
    return word.upper()


def texts_plan(line_shape: Shape) -> tuple[PlanEntry, ...]:
    """Every column's text, then a reader of the first and a program reader of the last."""
    last = len(line_shape.spans) - 1
    return (
        *(text(index) for index in range(last + 1)),
        lookup(0, upper_unless_bad),
        program_lookup(last, upper_unless_bad),
    )


def both(lines: list[str], line_shape: Shape) -> tuple[list[Any] | int, list[Any] | int]:
    """What the compiled and the Python assembler make of ``lines``, each with its own plan."""
    return (
        assemble_rows(lines, 1, line_shape, texts_plan(line_shape), Texts),
        assemble_rows_python(lines, 1, line_shape, texts_plan(line_shape), Texts),
    )


@pytest.mark.parametrize(
    ("spans", "last_start", "line", "expected"),
    [
        (
            (W, WS, R),
            -1,
            " 7 Mon Oct  4 10:11:12 2021  /sbin/init -x \r",
            ["7", "Mon Oct 4 10:11:12 2021", "/sbin/init -x"],
        ),
        ((W, WS, R), -1, "7 Oct 25 x", ["7", "Oct 25", "x"]),
        # Words parted by other blanks, joined by spaces (the compiled twin builds the text).
        ((W, WS, R), -1, "7 Mon\u3000日\xa0 x\t€ y  z", ["7", "Mon 日 x € y", "z"]),
        ((W, WS, R), -1, "7 Mon\tb c d e  z", ["7", "Mon b c d e", "z"]),
        ((W, WS, R), -1, "7 10:11 x y", ["7", "10:11", "x y"]),
        ((W, T, W, W), -1, "7 my prog  (x)  3 4  ", ["7", "my prog  (x)", "3", "4"]),
        ((W, T, W, R), 13, "7 my prog 3  /opt/my prog", ["7", "my prog", "3", "/opt/my prog"]),
        ((T, W), -1, "my prog 7", ["my prog", "7"]),
        ((W, W), -1, "  \t ", []),
    ],
)
def test_lines_split_by_their_shape(
    spans: tuple[Span, ...], last_start: int, line: str, expected: list[str]
) -> None:
    line_shape = shape(spans, last_start, MORE)
    assert split_columns(line, line_shape) == expected
    readers = [expected[0].upper(), expected[-1].partition(" ")[0].upper()] if expected else []
    compiled, python = both([line], line_shape)
    assert compiled == python == ([Texts([*expected, *readers])] if expected else [])


@pytest.mark.parametrize(
    ("spans", "last_start", "line", "error"),
    [
        ((W, WS, R), -1, "7 Mon a b", "expected 3 columns, found 2"),
        ((W, W), -1, "7 8 9", "expected 2 columns, found 3"),
        ((W, T, W), -1, "7 8", "expected 3 columns, found 2"),
        ((W, T, R), 10, "7 abcdefghijk", "last column does not begin under its header"),
        ((W, T, R), 10, "7 ab", "last column does not begin under its header"),
        ((W, T, R), 4, "7 a      ", "expected 3 columns, found 2"),
    ],
)
def test_lines_that_do_not_fit_their_shape(
    spans: tuple[Span, ...], last_start: int, line: str, error: str
) -> None:
    line_shape = shape(spans, last_start, MORE)
    with pytest.raises(ValueError, match=error):
        split_columns(line, line_shape)
    assert both([line, line], line_shape) == (0, 0)


def test_a_misplaced_last_column_is_its_own_error() -> None:
    with pytest.raises(MisplacedColumnError):
        split_columns("7 abcdefghijk", shape((W, T, R), 10))


@pytest.mark.parametrize(
    ("spans", "last_start"),
    [((W, R, W), -1), ((T, T, W), -1), ((W, T, WS), -1), ((W, T, R), -1), ((W, W), 3), ((), -1)],
)
def test_shapes_the_splitting_cannot_follow_are_refused(
    spans: tuple[Span, ...], last_start: int
) -> None:
    with pytest.raises(ValueError, match="not a shape"):
        shape(spans, last_start)
    with pytest.raises(ValueError, match="shape"):
        assemble_rows(["a b"], 1, Shape(spans, last_start, {}), (), Texts)


# Shapes as layout_of makes them: words (some of several), then perhaps one text column
# with words after it, then perhaps a last column of text (under its header after a text).
@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    """A valid shape, and so every shape the parsers' layouts make."""
    spans = draw(st.lists(st.sampled_from([W, WS]), max_size=4))
    middle = draw(st.booleans())
    if middle:
        spans += [T, *draw(st.lists(st.just(W), max_size=2))]
    last = draw(st.sampled_from(["word", "rest"] if spans else ["rest"]))
    spans.append(W if last == "word" else R)
    last_start = draw(st.integers(1, 30)) if middle and last == "rest" else -1
    return shape(tuple(spans), last_start, MORE)


_SPACE = st.text(st.sampled_from(list("  \t\r\x0b\x1c\x85\xa0\u3000")), min_size=1, max_size=3)
_WORD = st.one_of(
    st.sampled_from(["Mon", "Oct", "a", "!x", "[k", "7"]),
    st.text(st.sampled_from(list("ab1![] é日\U0001f600")), min_size=1, max_size=6),
)
_LINE = st.builds(
    lambda lead, pairs: lead + "".join(word + space for word, space in pairs),
    st.text(" ", max_size=2),
    st.lists(st.tuples(_WORD, _SPACE), max_size=9),
)


@given(shapes(), st.lists(_LINE, max_size=6))
def test_the_compiled_assembler_agrees_with_its_python_twin_on_any_shape(
    line_shape: Shape, lines: list[str]
) -> None:
    compiled, python = both(lines, line_shape)
    assert compiled == python


OBSERVED_AT = datetime(2026, 12, 2, 1, 3, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "fixture",
    [
        "linux-local/ps-o-eo-pgid-sid-psr-cls-tid-sz-cgroup-wchan-f-label-lstart.out",
        "linux-local/ps-o-eLo-threads.out",
        "linux-local/ps-o-eo-start-forms-users-sizes-ucmd-cmd.out",
        "linux-local/ps-o-elf.out",
        "linux-local/ps-o-axl.out",
        "macos/osx-ps-ax-ww-o-pid-ppid-uid-gid-args.out",
    ],
)
def test_ps_o_listings_read_alike_by_both(fixture: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = read_fixture(fixture)
    observed_at = OBSERVED_AT if "linux" in fixture else datetime(2021, 10, 26, tzinfo=UTC)
    compiled = parse_listing(raw, os_type="linux", command="ps -eo", observed_at=observed_at)
    monkeypatch.setattr(parsers.ps_table, "assemble_rows", assemble_rows_python)
    python = parse_listing(raw, os_type="linux", command="ps -eo", observed_at=observed_at)
    assert compiled.rows == python.rows
    assert len(compiled.rows) > 10
    broken = raw + "  x\n"
    with pytest.raises(ParseError) as from_python:
        parse_listing(broken, os_type="linux", command="ps -eo", observed_at=observed_at)
    monkeypatch.undo()
    with pytest.raises(ParseError) as from_compiled:
        parse_listing(broken, os_type="linux", command="ps -eo", observed_at=observed_at)
    assert str(from_compiled.value) == str(from_python.value)
