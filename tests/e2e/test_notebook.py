"""The example notebook, run as a researcher would: against `procmon up`, through the client."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from procmon.samples import SAMPLES
from tests.e2e.conftest import RunningStack
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NOTEBOOK = Path(__file__).resolve().parent.parent.parent / "examples" / "fleet.ipynb"


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
    monkeypatch.setenv("PROCMON_API_URL", stack.graphql_url)
    monkeypatch.setenv("PROCMON_API_KEY", stack.api_key)
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(
        cwd=str(NOTEBOOK.parent), env=dict(os.environ)
    )
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    # Cell 3: rows and snapshots; more rows than one page of 100 means the cursors were followed.
    count_text = outputs[2][0]["data"]["text/plain"]
    rows, snapshots = (int(n) for n in count_text.strip("()").split(","))
    assert rows > 100
    assert snapshots == len(expected_os)
    # The plot cell draws one figure (an image/png output), not only a text repr of it.
    images = [
        output for cell in outputs for output in cell if "image/png" in output.get("data", {})
    ]
    assert len(images) == 1
    assert len(images[0]["data"]["image/png"]) > 1000
    # The last cell prints the operating systems its summary covers.
    printed = outputs[-1][0]["text"].strip()
    assert printed == str(expected_os)
