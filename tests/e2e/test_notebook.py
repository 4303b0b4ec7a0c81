"""The example notebooks, run as a researcher would: against `procmon up`, through the client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from procmon.collector import local_identity
from procmon.samples import SAMPLES
from tests.e2e.conftest import RunningStack
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
NOTEBOOK = EXAMPLES / "fleet.ipynb"
HISTORY_NOTEBOOK = EXAMPLES / "history.ipynb"
# Listings of this machine the history test takes, a few seconds apart, so that its processes
# have been seen three times and more whenever procmon up took its own.
EXTRA_LISTINGS = 3
LISTING_SPACING_SECONDS = 4.0


def _execute(path: Path, stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Run the notebook at PATH against the stack; give each code cell's outputs."""
    monkeypatch.setenv("PROCMON_API_URL", stack.graphql_url)
    monkeypatch.setenv("PROCMON_API_KEY", stack.api_key)
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(
        cwd=str(path.parent), env=dict(os.environ)
    )
    return [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]


def _images(outputs: list[Any]) -> list[Any]:
    """The PNG figures among the outputs."""
    return [output for cell in outputs for output in cell if "image/png" in output.get("data", {})]


def test_the_example_notebook_runs_against_the_demo_stack(
    stack: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected_os = sorted({"linux"} | {sample.os_type for sample in SAMPLES})

    def every_os_stored() -> bool:
        machines = stack.graphql("{ machines { osType } }")["data"]["machines"]
        return sorted({machine["osType"] for machine in machines}) == expected_os

    wait_for(every_os_stored, "the demo fleet")
    # RSS is resident memory on every OS (Windows' working set), so each OS's sum counts.
    stats = stack.graphql("{ processStats(groupBy: [OS_TYPE]) { osType sumRssBytes } }")
    resident = {
        group["osType"]: int(group["sumRssBytes"] or 0) for group in stats["data"]["processStats"]
    }
    assert sorted(resident) == expected_os
    assert all(total > 0 for total in resident.values()), resident
    outputs = _execute(NOTEBOOK, stack, monkeypatch)
    # Cell 3: rows and snapshots; more rows than one page of 100 means the cursors were followed.
    count_text = outputs[2][0]["data"]["text/plain"]
    rows, snapshots = (int(n) for n in count_text.strip("()").split(","))
    assert rows > 100
    # Five listings of each sample machine, and this machine's, taken once a minute.
    assert snapshots >= 5 * len(SAMPLES) + 1
    # The plot cell draws one figure (an image/png output), not only a text repr of it.
    images = _images(outputs)
    assert len(images) == 1
    assert len(images[0]["data"]["image/png"]) > 1000
    # The last cell prints the operating systems its summary covers.
    printed = outputs[-1][0]["text"].strip()
    assert printed == str(expected_os)


def test_the_history_notebook_plots_a_linux_process_seen_several_times(
    stack: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    this_machine = local_identity().machine_id

    def listings() -> int:
        query = "{ machines { machineId snapshotCount } }"
        machines = stack.graphql(query)["data"]["machines"]
        return sum(m["snapshotCount"] for m in machines if m["machineId"] == this_machine)

    wait_for(lambda: listings() >= 1, "procmon up's listing of this machine")
    for n in range(EXTRA_LISTINGS):
        if n:
            time.sleep(LISTING_SPACING_SECONDS)
        subprocess.run(
            [sys.executable, "-m", "procmon", "collect"], env=stack.env, check=True, timeout=60
        )
    wait_for(lambda: listings() >= 1 + EXTRA_LISTINGS, "this machine's listings")
    outputs = _execute(HISTORY_NOTEBOOK, stack, monkeypatch)
    # The fleet's top five by CPU seconds: Windows' System Idle Process (what two CPUs left in
    # four derived minutes) first.
    table = outputs[1][0]["data"]["text/plain"].splitlines()
    assert table[1].split()[1:4] == ["windows", "sample-windows", "System"], table
    images = _images(outputs)
    assert len(images) == 1
    assert len(images[0]["data"]["image/png"]) > 1000
    printed = outputs[-1][0]["text"].split()
    assert printed[0] == "linux"
    assert int(printed[-1]) >= EXTRA_LISTINGS - 1
