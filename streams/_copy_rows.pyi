from collections.abc import Sequence
from typing import Any, TypeVar

_Row = TypeVar("_Row", bound=tuple[Any, ...])

def encode_rows(
    head: tuple[object, ...],
    rows: list[_Row],
    types: tuple[str, ...],
    truncated: list[int],
    tails: Sequence[tuple[object, ...]],
    /,
) -> bytes: ...
def first_out_of_range(
    rows: list[_Row], columns: tuple[tuple[int, str], ...], /
) -> tuple[int, int] | None: ...
