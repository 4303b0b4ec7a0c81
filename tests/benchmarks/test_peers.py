"""The peer benchmark reads the same rows out of procmon's and PostGraphile's answers, whatever
each server's shape and scalar spelling, and tells rows that differ apart."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse, validate

from benchmarks.peers import PEER_QUESTIONS, PeerQuestion, same_rows
from graphql_api.schema import schema

_BY_KEY = {question.key: question for question in PEER_QUESTIONS}


@pytest.mark.parametrize("question", PEER_QUESTIONS, ids=lambda q: q.key)
def test_procmon_spells_each_question_in_its_own_schema(question: PeerQuestion) -> None:
    assert validate(schema._schema, parse(question.procmon)) == []


def test_snapshots_compare_by_id_time_and_count_as_each_server_names_them() -> None:
    c = _BY_KEY["c_week_snapshots_count"]
    procmon = {
        "snapshots": {
            "totalCount": 2,
            "nodes": [
                {"id": "7", "timestamp": "2026-11-28T12:00:00+00:00", "processCount": 3},
                {"id": "5", "timestamp": "2026-11-28T11:40:00+00:00", "processCount": 3},
            ],
        }
    }
    v5: dict[str, Any] = {
        "commands": {
            "totalCount": 2,
            "nodes": [
                {"rowId": "7", "timestamp": "2026-11-28T12:00:00Z", "processCount": 3},
                {"rowId": "5", "timestamp": "2026-11-28T11:40:00.000000Z", "processCount": 3},
            ],
        }
    }
    assert same_rows(c, procmon, v5)
    nodes = v5["commands"]["nodes"]
    assert not same_rows(c, procmon, {"commands": {"totalCount": 2, "nodes": nodes[::-1]}})
    nodes[1]["processCount"] = 4
    assert not same_rows(c, procmon, v5)


def test_groups_compare_in_any_order_with_bigint_counts_sent_as_strings() -> None:
    d = _BY_KEY["d_day_count_per_user"]
    procmon = {
        "processStats": [{"user": "root", "processCount": 72}, {"user": None, "processCount": 1}]
    }
    peer: dict[str, Any] = {
        "processes": {
            "groupedAggregates": [
                {"keys": [None], "count": {"processName": "1"}},
                {"keys": ["root"], "count": {"processName": "72"}},
            ]
        }
    }
    assert same_rows(d, procmon, peer)
    peer["processes"]["groupedAggregates"][1]["count"]["processName"] = "71"
    assert not same_rows(d, procmon, peer)
