"""Machine labels: their bounds, their text form, and flags over the setting."""

from __future__ import annotations

import re

import pytest

from procmon.errors import ConfigurationError
from procmon.labels import (
    MAX_LABELS,
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    check_labels,
    format_labels,
    labels_in_force,
    parse_label,
    parse_labels,
)


def test_pairs_separated_by_commas_are_read_with_blanks_around_them_ignored() -> None:
    assert parse_labels(" role=web , site=eu-west,,") == {"role": "web", "site": "eu-west"}
    assert parse_labels("") == {}
    assert parse_labels("note=a=b") == {"note": "a=b"}


def test_labels_read_back_from_their_text() -> None:
    labels = {"role": "web", "site": "eu", "_rack": "R 12"}
    assert parse_labels(format_labels(labels)) == labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("role", "label 'role' is not name=value, e.g. role=web"),
        ("9role=web", "label name '9role' is not 1 to 63 letters, digits or underscores"),
        ("ro-le=web", "label name 'ro-le' is not"),
        ("=web", "label name '' is not"),
        ("role=", "label role's value has 0 characters, not 1 to 256"),
        ("role=web,role=db", "label role is given twice"),
    ],
)
def test_a_bad_label_says_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        parse_labels(text)


def test_names_and_values_are_bounded() -> None:
    longest_name = "n" * MAX_NAME_LENGTH
    assert parse_label(f"{longest_name}={'v' * MAX_VALUE_LENGTH}")[0] == longest_name
    with pytest.raises(ValueError, match="is not 1 to 63"):
        parse_label(f"{longest_name}x=v")
    with pytest.raises(ValueError, match="has 257 characters, not 1 to 256"):
        parse_label(f"role={'v' * (MAX_VALUE_LENGTH + 1)}")
    with pytest.raises(ValueError, match="contains a NUL character"):
        check_labels({"role": "w\x00b"})


def test_a_machine_has_at_most_32_labels() -> None:
    most = {f"l{n}": "v" for n in range(MAX_LABELS)}
    assert check_labels(most) == most
    with pytest.raises(ValueError, match="33 labels, more than the 32 a machine may have"):
        check_labels(most | {"one_more": "v"})


def test_a_flag_replaces_its_names_value_and_adds_the_others() -> None:
    configured = {"role": "web", "site": "eu"}
    flags = [parse_label("role=db"), parse_label("rack=r1")]
    assert labels_in_force(configured, flags) == {"role": "db", "site": "eu", "rack": "r1"}
    assert labels_in_force(configured, None) == configured


def test_flags_that_come_to_too_many_labels_are_a_configuration_error() -> None:
    configured = {f"l{n}": "v" for n in range(MAX_LABELS)}
    with pytest.raises(ConfigurationError, match="PROCMON_LABELS with --label: 33 labels"):
        labels_in_force(configured, [("extra", "v")])
