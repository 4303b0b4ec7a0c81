from collections.abc import Callable
from typing import Any, TypeVar

_Row = TypeVar("_Row", bound=tuple[Any, ...])

def encode_objects(
    rows: list[_Row],
    keys: tuple[str, ...],
    separator: bytes,
    end: bytes,
    fallback: Callable[[object], bytes],
    /,
) -> bytes: ...
