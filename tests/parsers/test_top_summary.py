"""The pieces the top parsers share, and scaled_bytes of parsers.values."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.errors import ParseError
from parsers.top_summary import first_line, labelled_numbers, last_sample
from parsers.values import memoized, scaled_bytes


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("top - x\n", (1, "top - x")),
        ("\n \r\n\tab c\r\nd", (3, "\tab c")),
        ("", None),
        (" \n\t\r\n", None),
    ],
)
def test_first_line(raw: str, found: tuple[int, str] | None) -> None:
    assert first_line(raw) == found


def test_last_sample_numbers_lines_in_the_whole_text() -> None:
    raw = "top - 1\na\n\ntop - 2\r\nb\n"
    assert last_sample(raw, "top - ") == (4, ["top - 2\r", "b", ""])
    assert last_sample("top - 1\nx", "top - ") == (1, ["top - 1", "x"])


def test_labelled_numbers_keeps_the_printed_numbers() -> None:
    text = "   3.3 total,  0.0%us, 541M Active. 3.5+ avail Mem "
    labels = {"total", "us", "Active", "avail Mem"}
    assert labelled_numbers(text, labels, 7, "line") == {
        "total": "3.3",
        "us": "0.0",
        "Active": "541M",
        "avail Mem": "3.5",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 total, 2 cats", r"^line 7: unknown summary label 'cats'"),
        ("1 total, and more", r"^line 7: unreadable summary line"),
        ("", r"^line 7: unreadable summary line"),
        ("total 1", r"^line 7: unreadable summary line"),
    ],
)
def test_labelled_numbers_refusals(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        labelled_numbers(text, {"total"}, 7, "the line")


def test_memoized_reads_each_text_once_and_refuses_again() -> None:
    calls: list[str] = []

    def convert(text: str) -> int:
        calls.append(text)
        return int(text)

    read = memoized(convert)
    assert [read("1"), read("2"), read("1")] == [1, 2, 1]
    assert calls == ["1", "2"]
    for _ in range(2):
        with pytest.raises(ValueError, match="invalid literal"):
            read("x")
    assert calls == ["1", "2", "x", "x"]


@pytest.mark.parametrize(
    ("text", "unit", "size"),
    [
        ("13208", 1024, 13_524_992),
        ("0B", 1, 0),
        ("42296K", 1024, 43_311_104),
        ("136M", 1024, 142_606_336),
        ("2G", 1024, 2_147_483_648),
        ("1.2g", 1024, 1_288_490_189),
        ("0.5", 1024, 512),
        ("0.0005k", 1, 1),  # 0.512 bytes rounds up
        ("0.0004k", 1, 0),  # 0.4096 bytes rounds down
        ("3e", 1, 3 * 1024**6),
    ],
)
def test_scaled_bytes(text: str, unit: int, size: int) -> None:
    assert scaled_bytes(text, unit) == size


@pytest.mark.parametrize("text", ["", "K", "1.K", ".5", "-1", "1.2.3", "1 K", "1KB", "١٢", "1Q"])
def test_scaled_bytes_refusals(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        scaled_bytes(text, 1024)


@given(st.integers(0, 10**15 - 1), st.integers(0, 999), st.sampled_from("BKMGTPE"))
def test_scaled_bytes_is_exact(whole: int, thousandths: int, letter: str) -> None:
    unit = 1024 ** "BKMGTPE".index(letter)
    exact = whole * unit + Fraction(thousandths * unit, 1000)
    assert abs(scaled_bytes(f"{whole}.{thousandths:03d}{letter}", 7) - exact) <= Fraction(1, 2)
