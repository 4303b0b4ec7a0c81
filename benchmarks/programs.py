"""``procmon parse`` against ``jc`` as whole programs: each a process, its start included.

A user who picks one over the other waits for the program, not for the parser function: the
interpreter's start, the imports, reading the file and writing every row count as much as the
parsing. Each corpus with a jc twin is written to a file once; ``procmon parse --format jsonl
FILE`` and ``jc -q --ps`` (or ``--top``) reading the same file on stdin then take turns, output
to /dev/null, and the best of three runs of each is kept.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

from benchmarks.corpora import ParserCorpus
from benchmarks.parsing import CORPUS_LINES, OBSERVED_AT, best_seconds, figure_key

__all__ = ["bench_programs", "print_programs_table"]

# The programs of the interpreter running the benchmark: those `make install` put beside it.
_BIN = Path(sys.executable).parent


def _run(command: list[str], stdin: Path) -> None:
    """Run ``command`` with ``stdin`` as its input and its output thrown away."""
    with stdin.open("rb") as source:
        finished = subprocess.run(
            command, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {finished.stderr.decode()[-2000:]}")


def bench_programs(corpora: Iterable[ParserCorpus]) -> dict[str, float]:
    """Lines per second of ``procmon parse`` and of ``jc`` as programs, for each corpus jc
    parses too, and how many times faster procmon is."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="procmon-bench-") as folder:
        for corpus in corpora:
            if corpus.jc_parser is None:
                continue
            key = figure_key(corpus)
            listing = Path(folder) / f"{key}.out"
            text = corpus.build(CORPUS_LINES)
            listing.write_text(text)
            lines = text.count("\n")
            ours = [
                str(_BIN / "procmon"),
                "parse",
                "--format",
                "jsonl",
                "--os",
                corpus.os_type,
                "--command",
                corpus.command,
                "--timestamp",
                OBSERVED_AT.isoformat(),
                str(listing),
            ]
            # -q: jc warns on stderr of each value top cut short; quiet, it does less work.
            theirs = [str(_BIN / "jc"), "-q", f"--{corpus.jc_parser}"]
            our_seconds, their_seconds = best_seconds(
                [partial(_run, ours, listing), partial(_run, theirs, listing)]
            )
            figures[f"program_parse_{key}_lines_per_s"] = lines / our_seconds
            figures[f"program_jc_{key}_lines_per_s"] = lines / their_seconds
            figures[f"program_{key}_vs_jc"] = their_seconds / our_seconds
    return figures


def print_programs_table(results: Mapping[str, float]) -> None:
    """Each format jc parses: procmon against jc as functions (when measured) and as
    programs, in lines per second, and the ratios."""
    print(f"\nprocmon against jc on {CORPUS_LINES:,} lines, lines per second:")
    print(
        f"{'format':<8} {'parser':>11} {'jc.parse':>11} {'ratio':>6}"
        f" {'procmon parse':>14} {'jc program':>11} {'ratio':>6}"
    )
    for name in results:
        if not (name.startswith("program_") and name.endswith("_vs_jc")):
            continue
        key = name.removeprefix("program_").removesuffix("_vs_jc")
        cells = [
            _cell(results, f"parse_{key}_lines_per_s", 11),
            _cell(results, f"jc_{key}_lines_per_s", 11),
            _cell(results, f"parse_{key}_vs_jc", 6),
            _cell(results, f"program_parse_{key}_lines_per_s", 14),
            _cell(results, f"program_jc_{key}_lines_per_s", 11),
            _cell(results, f"program_{key}_vs_jc", 6),
        ]
        print(f"{key:<8} {' '.join(cells)}")
    print("programs: process start included, the best of three runs of each, taking turns")


def _cell(results: Mapping[str, float], name: str, width: int) -> str:
    value = results.get(name)
    if value is None:
        # The in-process figures are not there under --skip-parsers.
        return f"{'-':>{width}}"
    return f"{value:>{width}.2f}" if name.endswith("_vs_jc") else f"{value:>{width},.0f}"
