"""The growth benchmark's table: a row a figure, a column a size, the change from the smallest
size to the largest, and each target with whether it is met."""

from __future__ import annotations

from benchmarks.growth_figures import TARGETS, Target, verdict

__all__ = ["print_growth_table", "size_label"]

_FIGURE_WIDTH = 50
_CELL_WIDTH = 14


def size_label(rows: int) -> str:
    """``rows`` as the table heads its column: 300k, 10M, 2.5M."""
    if rows >= 1_000_000:
        return f"{rows / 1_000_000:g}M rows"
    return f"{rows / 1_000:g}k rows"


def _cell(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def print_growth_table(results: dict[str, float | str], sizes: list[int]) -> None:
    """Print ``results`` of :func:`benchmarks.growth.bench_growth` at ``sizes``, and how many
    targets were met."""
    sizes = sorted(sizes)
    first = f"growth_{sizes[0]}_"
    figures = [key.removeprefix(first) for key in results if key.startswith(first)]
    targets: dict[str, list[Target]] = {}
    for target in TARGETS:
        targets.setdefault(target.figure, []).append(target)
    heads = [size_label(size) for size in sizes]
    print(
        f"\n{'figure':<{_FIGURE_WIDTH}} "
        + " ".join(f"{head:>{_CELL_WIDTH}}" for head in heads)
        + f" {'change':>8}  {'target':<16} met"
    )
    met = 0
    for figure in figures:
        cells = " ".join(
            f"{_cell(results.get(f'growth_{size}_{figure}')):>{_CELL_WIDTH}}" for size in sizes
        )
        change = results.get(f"growth_change_{figure}")
        shown = f"{change:+.1%}" if isinstance(change, int | float) else "-"
        line = f"{figure:<{_FIGURE_WIDTH}} {cells} {shown:>8}"
        # A figure with two targets (a change and a value) shows the second on a line of its
        # own, under the first.
        for n, target in enumerate(targets.get(figure, [])):
            outcome = verdict(target, results, sizes)
            met += outcome is True
            word = {True: "met", False: "MISSED", None: "not measured"}[outcome]
            if n:
                print(line.rstrip())
                line = f"{'':<{_FIGURE_WIDTH}} {'':>{len(cells)}} {'':>8}"
            line += f"  {target!s:<16} {word}"
        print(line.rstrip())
    print(
        f"targets met: {met} of {len(TARGETS)} (the change is from {heads[0]} to {heads[-1]};"
        " a value target must hold at every size)"
    )
