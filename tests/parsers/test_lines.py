"""Line numbering shared by every parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parsers.lines import first_line, numbered_lines

_TEXT = st.text(alphabet=st.sampled_from(["a", " ", "\t", "\r", "\n", "\x0b", "é"]), max_size=40)


def test_first_line_skips_blank_lines_and_drops_the_carriage_return() -> None:
    assert first_line("\n  \r\n\t\nUSER PID\r\nroot 1\n") == (4, "USER PID")


def test_first_line_of_blank_text_is_none() -> None:
    assert first_line("") is None
    assert first_line(" \n\r\n\n") is None


@given(_TEXT)
def test_first_line_is_the_first_of_numbered_lines(raw: str) -> None:
    numbered = numbered_lines(raw)
    assert first_line(raw) == (numbered[0] if numbered else None)
