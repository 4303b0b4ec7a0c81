"""What a parser benchmark needs to know about one format: how to build a corpus, jc's twin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ParserCorpus"]


@dataclass(frozen=True, slots=True)
class ParserCorpus:
    """A listing format to benchmark.

    ``build(n)`` returns a raw listing with at least ``n`` data lines; ``jc_parser`` names jc's
    parser for the same format (``"ps"``, ``"top"``) or is ``None`` where jc has none.
    """

    format: str
    os_type: str
    command: str
    build: Callable[[int], str]
    jc_parser: str | None = None
