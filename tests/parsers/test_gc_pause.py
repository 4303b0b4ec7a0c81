"""Pausing collection while rows are made nests and resumes."""

from __future__ import annotations

import gc

import pytest

from parsers.gc_pause import collection_paused


def test_collection_resumes_unless_it_was_paused_before() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError
    assert gc.isenabled()
