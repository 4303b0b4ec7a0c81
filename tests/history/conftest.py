"""The linker twin a test of linking in this process runs with: the compiled one and Python's
(``pytest.mark.usefixtures("linker")``; a worker in a process of its own links with its own)."""

from __future__ import annotations

import pytest

from history import linking


@pytest.fixture(params=["c", "python"])
def linker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Link with the twin of the test's parameter."""
    twin: str = request.param
    if twin == "python":
        monkeypatch.setattr(linking, "_link_rows", linking._python_twin)
    return twin
