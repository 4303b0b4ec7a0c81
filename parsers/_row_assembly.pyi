from typing import Any, TypeVar

from parsers.line_shapes import Shape
from parsers.row_assembly import PlanEntry

_Row = TypeVar("_Row", bound=tuple[Any, ...])

def assemble_rows(
    lines: list[str],
    first_number: int,
    line_shape: Shape,
    plan: tuple[PlanEntry, ...],
    row_type: type[_Row],
    /,
) -> list[_Row] | int: ...
