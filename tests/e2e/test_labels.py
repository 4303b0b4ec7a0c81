"""Labels from the settings to GraphQL, through the real pipeline: `procmon up` collecting this
machine with PROCMON_LABELS, and `procmon collect --label` beside it, each listing through the
broker and a worker into PostgreSQL, then asked of the API by label."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from procmon.collector import local_identity
from procmon.samples import SAMPLES
from tests.e2e.conftest import RunningStack, running_stack
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CONFIGURED = {"role": "e2e-runner", "site": "ci"}
# What `procmon collect FLAGS` sends: the flag's role in place of the setting's, the setting's
# site, the flag's rack.
FLAGS = ("--label", "role=e2e-override", "--label", "rack=r7")
OVERRIDDEN = {"role": "e2e-override", "site": "ci", "rack": "r7"}

SNAPSHOTS = """query ($filter: SnapshotFilter) {
  snapshots(filter: $filter) { totalCount nodes { id labels cpuCount processCount } } }"""
PROCESS_COUNT = """query ($filter: ProcessFilter) { processes(filter: $filter) { totalCount } }"""
STATS = """{ processStats(groupBy: [LABEL], label: "role") {
  label processCount snapshotCount } }"""


@pytest.fixture(scope="module")
def labelled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory, PROCMON_LABELS="role=e2e-runner,site=ci") as stack:
        yield stack


def _data(stack: RunningStack, query: str, **variables: Any) -> dict[str, Any]:
    answer = stack.graphql(query, **variables)
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def _snapshots(stack: RunningStack, role: str) -> list[dict[str, Any]]:
    """This machine's snapshots whose labels say ``role``."""
    this_machine = {"equalTo": local_identity().machine_id}
    where = {"machineId": this_machine, "labels": [{"name": "role", "equalTo": role}]}
    nodes: list[dict[str, Any]] = _data(stack, SNAPSHOTS, filter=where)["snapshots"]["nodes"]
    return nodes


def test_labels_of_the_setting_and_the_flags_reach_the_filters_and_groups(
    labelled_stack: RunningStack,
) -> None:
    stack = labelled_stack
    wait_for(lambda: bool(_snapshots(stack, "e2e-runner")), "a listing with PROCMON_LABELS")
    done = subprocess.run(
        [sys.executable, "-m", "procmon", "collect", *FLAGS],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    wait_for(lambda: bool(_snapshots(stack, "e2e-override")), "the listing of procmon collect")

    assert {tuple(sorted(s["labels"].items())) for s in _snapshots(stack, "e2e-runner")} == {
        tuple(sorted(CONFIGURED.items()))
    }
    (collected,) = _snapshots(stack, "e2e-override")
    assert collected["labels"] == OVERRIDDEN
    assert collected["cpuCount"] == os.cpu_count()

    # The processes filter selects by the same labels: the collected listing's rows exactly.
    by_rack = {"labels": [{"name": "rack", "exists": True}, {"name": "site", "in": ["ci"]}]}
    counted = _data(stack, PROCESS_COUNT, filter=by_rack)["processes"]["totalCount"]
    assert counted == collected["processCount"] > 0

    groups = {g["label"]: g for g in _data(stack, STATS)["processStats"]}
    assert (groups["e2e-override"]["snapshotCount"], groups["e2e-override"]["processCount"]) == (
        1,
        collected["processCount"],
    )
    # The sample machines' roles, five listings each, beside this machine's.
    machines = Counter(sample.labels["role"] for sample in SAMPLES)
    for role in ("workstation", "domain-controller"):
        assert groups[role]["snapshotCount"] == 5 * machines[role] > 0
    assert None not in groups, "every listing of this stack has a role"
