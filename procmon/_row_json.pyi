from collections.abc import Callable
from typing import Any

def encode_objects(
    rows: list[tuple[Any, ...]],
    keys: tuple[str, ...],
    separator: bytes,
    end: bytes,
    fallback: Callable[[object], bytes],
    /,
) -> bytes: ...
