"""Generated processes printed as tasklist prints them, in each language, then read back."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from parsers import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessRow
from parsers.tasklist import parse_tasklist
from parsers.tasklist_records import parse_tasklist_csv, parse_tasklist_list
from tests.parsers.tasklist_render import (
    FIELDS,
    LANGUAGES,
    PROCESSES,
    VERBOSE,
    Language,
    Process,
    expected,
    memory_text,
    render_csv,
    render_list,
    render_table,
)

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _check_verbose(row: ProcessRow, process: Process, language: Language, table: bool) -> None:
    word, state = language.states[process.state]
    assert row.status is state
    cut = table and len(word) > 15
    assert row.status_raw == (word[:15] if table else word)
    user = process.user
    # The table pads with blanks, so a cut that ends in one reads as a shorter, uncut name.
    shown = user[:50].rstrip() if user is not None and table else user
    user_cut = table and shown is not None and len(shown) == 50
    assert row.user == shown
    flags = (*(("status_raw",) if cut else ()), *(("user",) if user_cut else ()))
    base = expected(process, row.line_number, True, table)
    assert row == ProcessRow(
        **{
            **base._asdict(),
            "user": row.user,
            "status": row.status,
            "status_raw": row.status_raw,
            "truncated_fields": (*base.truncated_fields, *flags),
        }
    )


def _unambiguous(process: Process) -> bool:
    """A name whose cut (or not) the 25-column rule can tell: see parse_tasklist."""
    name = process.image
    ends_exe = name[:25].lower().endswith(".exe")
    return not (len(name) == 25 and not ends_exe) and not (len(name) > 25 and ends_exe)


_CASES = st.tuples(st.lists(PROCESSES, max_size=6), st.sampled_from(LANGUAGES), st.booleans())


@given(_CASES)
def test_table_round_trip(case: tuple[list[Process], Language, bool]) -> None:
    processes, language, verbose = case
    assume(all(_unambiguous(process) for process in processes))
    # Wider Mem Usage values (ru "КБ" past 10 GiB) are not known from real captures.
    assume(all(len(memory_text(p, language)) <= language.memory_width for p in processes))
    listing = parse_listing(
        render_table(processes, language, verbose), os_type="windows", command="", observed_at=AT
    )
    assert listing.format == "tasklist"
    assert len(listing.rows) == len(processes)
    for number, (row, process) in enumerate(zip(listing.rows, processes, strict=True), 4):
        if verbose:
            _check_verbose(row, process, language, table=True)
        else:
            assert row == expected(process, number, False, table=True)


@given(_CASES)
def test_csv_round_trip(case: tuple[list[Process], Language, bool]) -> None:
    processes, language, verbose = case
    text = render_csv(processes, language, verbose)
    assert parse_listing(text, os_type="windows", command="", observed_at=AT).format == (
        "tasklist csv"
    )
    rows = parse_tasklist_csv(text, AT)
    for number, (row, process) in enumerate(zip(rows, processes, strict=True), 3):
        assert row.line_number == number
        if verbose:
            _check_verbose(row, process, language, table=False)
        else:
            assert row == expected(process, number, False, table=False)
    assert len(rows) == len(processes)


@given(_CASES)
def test_list_round_trip(case: tuple[list[Process], Language, bool]) -> None:
    processes, language, verbose = case
    text = render_list(processes, language, verbose)
    if processes:
        listing = parse_listing(text, os_type="windows", command="", observed_at=AT)
        assert listing.format == "tasklist list"
    rows = parse_tasklist_list(text, AT) if processes else []
    step = len(VERBOSE if verbose else FIELDS) + 1
    for index, (row, process) in enumerate(zip(rows, processes, strict=True)):
        assert row.line_number == 2 + index * step
        if verbose:
            _check_verbose(row, process, language, table=False)
        else:
            assert row == expected(process, row.line_number, False, table=False)
    assert len(rows) == len(processes)


_PARSERS = (parse_tasklist, parse_tasklist_csv, parse_tasklist_list)
_LINE = st.text(st.characters(max_codepoint=0x44F, blacklist_characters="\n"), max_size=90)


def _parses_or_refuses(text: str) -> None:
    for parse in _PARSERS:
        with suppress(ParseError):
            parse(text, AT)
    with suppress(ParseError):
        parse_listing(text, os_type="windows", command="tasklist", observed_at=AT)


@given(st.text(max_size=3000))
def test_fuzz_arbitrary_text(text: str) -> None:
    _parses_or_refuses(text)


@given(st.sampled_from(LANGUAGES), st.booleans(), st.lists(_LINE, max_size=6))
def test_fuzz_after_a_real_header(language: Language, verbose: bool, lines: list[str]) -> None:
    for render in (render_table, render_csv, render_list):
        head = render([Process("a.exe", 4, ("Console", 1), 8, 0, None, 0, "")], language, verbose)
        _parses_or_refuses(head + "\n".join(lines))
        _parses_or_refuses("\n".join(head.split("\n")[:3]) + "\n" + "\n".join(lines))
