"""Parser throughput per format, beside jc's on the same text where jc has the format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial

import jc

from benchmarks.corpora import ParserCorpus
from parsers import parse_listing

__all__ = [
    "CORPUS_LINES",
    "OBSERVED_AT",
    "bench_parsers",
    "best_seconds",
    "figure_key",
    "medians_seconds",
]

CORPUS_LINES = 200_000
OBSERVED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _timings(runs: Sequence[Callable[[], object]], repeat: int) -> list[list[float]]:
    """The wall-clock times of each of ``runs``, called in turn ``repeat`` times.

    Taking turns, rather than timing one then the other, lets a change in the shared
    machine's speed weigh on every run alike.
    """
    timings: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, times in zip(runs, timings, strict=True):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    return timings


def medians_seconds(runs: Sequence[Callable[[], object]], repeat: int = 3) -> list[float]:
    """The median wall-clock time of each of ``runs``, called in turn ``repeat`` times."""
    return [statistics.median(times) for times in _timings(runs, repeat)]


def best_seconds(runs: Sequence[Callable[[], object]], repeat: int = 3) -> list[float]:
    """The shortest wall-clock time of each of ``runs``, called in turn ``repeat`` times."""
    return [min(times) for times in _timings(runs, repeat)]


def figure_key(corpus: ParserCorpus) -> str:
    """The corpus's name in figure keys: ``ps_aux``, ``ps_ef``, ``top_b``..."""
    return corpus.format.replace(" ", "_").replace("/", "").replace("-", "")


def bench_parsers(corpora: Iterable[ParserCorpus]) -> dict[str, float]:
    """Lines per second of procmon's parser for each corpus, and of jc where it has one."""
    figures: dict[str, float] = {}
    for corpus in corpora:
        text = corpus.build(CORPUS_LINES)
        lines = text.count("\n")
        key = figure_key(corpus)

        ours = partial(
            parse_listing,
            text,
            os_type=corpus.os_type,
            command=corpus.command,
            observed_at=OBSERVED_AT,
        )
        figures[f"parse_{key}_lines"] = lines
        if corpus.jc_parser is None:
            figures[f"parse_{key}_lines_per_s"] = lines / medians_seconds([ours])[0]
            continue
        # The same text, so that both rates are of the same work.
        theirs = partial(jc.parse, corpus.jc_parser, text, quiet=True)
        our_seconds, their_seconds = medians_seconds([ours, theirs])
        figures[f"parse_{key}_lines_per_s"] = lines / our_seconds
        figures[f"jc_{key}_lines_per_s"] = lines / their_seconds
        figures[f"parse_{key}_vs_jc"] = their_seconds / our_seconds
    return figures
