from collections.abc import Callable
from typing import Any

from history.linking import HistoryValues, Sighting

def link_rows(
    rows: list[Any],
    positions: tuple[int, ...],
    earlier_of: dict[int, Sighting],
    interval: float | None,
    new_key: Callable[[int], int],
    sighting_type: type[Sighting],
    names_agree: Callable[[Sighting, Any], bool],
    starts_agree: Callable[[Sighting, Any], bool],
    /,
) -> tuple[list[HistoryValues], dict[int, Sighting], list[int]]: ...
