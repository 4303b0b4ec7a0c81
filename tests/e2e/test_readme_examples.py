"""Every ```graphql block of the README, run against `procmon up`: each answers with rows."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from procmon.samples import SAMPLES
from tests.e2e.conftest import RunningStack
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

README = (Path(__file__).resolve().parent.parent.parent / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^```graphql\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)
# A required time argument (machinesRunning's from and to) names a day of the README's
# writing; the demo's listings are stamped when it starts, so the day around now stands in.
_TIME = re.compile(r'\b(from|to): "\d{4}-\d\d-\d\dT[0-9:.]+Z"')


def _around_now(example: str) -> str:
    """The example with each `from`/`to` moved to a window holding the demo's listings."""
    now = datetime.now(UTC)
    bounds = {"from": now - timedelta(days=1), "to": now + timedelta(hours=1)}
    return _TIME.sub(lambda m: f'{m[1]}: "{bounds[m[1]].isoformat()}"', example)


def _has_rows(value: Any) -> bool:
    """Whether an answer holds a non-empty list somewhere (a list of rows, or nodes)."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, dict):
        return any(_has_rows(item) for item in value.values())
    return False


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda text: text.split("(")[0].strip("{ \n"))
def test_each_readme_example_answers_on_the_demo(stack: RunningStack, example: str) -> None:
    expected = len(SAMPLES) + 1  # the bundled samples and this machine's own listing

    def demo_stored() -> bool:
        return len(stack.graphql("{ machines { machineId } }")["data"]["machines"]) == expected

    wait_for(demo_stored, "the demo fleet")
    answer = stack.graphql(_around_now(example))
    assert "errors" not in answer, answer
    assert _has_rows(answer["data"]), answer


CURLS = re.findall(r"^```sh\n(curl .*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_curl_examples() -> None:
    assert len(CURLS) >= 2


@pytest.mark.parametrize("command", CURLS, ids=lambda text: text.split()[-1][:40])
def test_each_readme_curl_example_answers_on_the_demo(stack: RunningStack, command: str) -> None:
    base = stack.graphql_url.removesuffix("/graphql")
    wait_for(lambda: _has_rows(stack.graphql("{ machines { machineId } }")), "a machine")
    text = command.replace("http://127.0.0.1:8000", base).replace("pmk_...", stack.api_key)
    argv = shlex.split(text.replace("\\\n", " "))
    done = subprocess.run([*argv, "--fail-with-body"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    if argv[-1] == "format=ndjson":
        assert lines
        assert all(json.loads(line)["process_name"] for line in lines)
    else:
        answer = json.loads(done.stdout)
        assert "errors" not in answer, answer
        assert _has_rows(answer["data"]), answer
