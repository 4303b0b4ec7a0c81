"""The history tests run with each twin of the row linker: the compiled one and Python's."""

from __future__ import annotations

import pytest

from history import linking


@pytest.fixture(autouse=True, params=["c", "python"])
def linker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Link with the twin of the test's parameter."""
    twin: str = request.param
    if twin == "python":
        monkeypatch.setattr(linking, "_link_rows", linking._python_twin)
    return twin
