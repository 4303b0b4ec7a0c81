"""Parser throughput per format, beside jc's on the same text where jc has the format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial

import jc

from benchmarks.corpora import ParserCorpus
from parsers import parse_listing

__all__ = ["CORPUS_LINES", "bench_parsers", "median_seconds"]

CORPUS_LINES = 200_000
OBSERVED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def median_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    """The median wall-clock time of ``repeat`` calls of ``run``."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_parsers(corpora: Iterable[ParserCorpus]) -> dict[str, float]:
    """Lines per second of procmon's parser for each corpus, and of jc where it has one."""
    figures: dict[str, float] = {}
    for corpus in corpora:
        text = corpus.build(CORPUS_LINES)
        lines = text.count("\n")
        key = corpus.format.replace(" ", "_").replace("/", "").replace("-", "")

        ours = partial(
            parse_listing,
            text,
            os_type=corpus.os_type,
            command=corpus.command,
            observed_at=OBSERVED_AT,
        )
        rate = lines / median_seconds(ours, repeat=3)
        figures[f"parse_{key}_lines"] = lines
        figures[f"parse_{key}_lines_per_s"] = rate
        if corpus.jc_parser is not None:
            # The same text, so that both rates are of the same work.
            theirs = partial(jc.parse, corpus.jc_parser, text, quiet=True)
            jc_rate = lines / median_seconds(theirs, repeat=1)
            figures[f"jc_{key}_lines_per_s"] = jc_rate
            figures[f"parse_{key}_vs_jc"] = rate / jc_rate
    return figures
