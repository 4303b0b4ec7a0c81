"""processStats: GROUP BY per column and per time bucket, over the test fleet; by a label's
value over the labelled fleet."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphql_api.errors import UserInputError
from graphql_api.stats import parse_bucket
from tests.graphql_api.conftest import BIG_RSS, post

STATS = """query ($groupBy: [ProcessGroupBy!]!, $filter: ProcessFilter, $bucket: String,
               $from: DateTime, $to: DateTime) {
  processStats(groupBy: $groupBy, filter: $filter, bucket: $bucket, from: $from, to: $to) {
    machineId user processName status osType bucketStart processCount snapshotCount
    avgCpuPercent maxCpuPercent avgMemoryPercent maxMemoryPercent sumRssBytes } }"""

_NULLS = {
    "machineId": None,
    "user": None,
    "processName": None,
    "status": None,
    "osType": None,
    "bucketStart": None,
}


async def _stats(client: httpx.AsyncClient, **variables: Any) -> list[dict[str, Any]]:
    body = await post(client, STATS, **variables)
    assert "errors" not in body, body
    groups: list[dict[str, Any]] = body["data"]["processStats"]
    return groups


async def test_per_user_counts_and_aggregates(client: httpx.AsyncClient) -> None:
    groups = await _stats(client, groupBy=["USER"])
    assert groups == [
        {**_NULLS, "user": "postgres", "processCount": 1, "snapshotCount": 1,
         "avgCpuPercent": 150.5, "maxCpuPercent": 150.5, "avgMemoryPercent": 61.75,
         "maxMemoryPercent": 61.75, "sumRssBytes": BIG_RSS},
        {**_NULLS, "user": "root", "processCount": 2, "snapshotCount": 2,
         "avgCpuPercent": 0.25, "maxCpuPercent": 0.5, "avgMemoryPercent": 0.25,
         "maxMemoryPercent": 0.25, "sumRssBytes": 2 * 12_345_678},
        {**_NULLS, "user": None, "processCount": 1, "snapshotCount": 1, "avgCpuPercent": None,
         "maxCpuPercent": None, "avgMemoryPercent": None, "maxMemoryPercent": None,
         "sumRssBytes": None},
    ]  # fmt: skip


async def test_no_grouping_is_one_group_of_everything(client: httpx.AsyncClient) -> None:
    (group,) = await _stats(client, groupBy=[])
    assert (group["processCount"], group["snapshotCount"], group["maxCpuPercent"]) == (4, 2, 150.5)


async def test_grouped_by_os_and_name_with_a_filter(client: httpx.AsyncClient) -> None:
    groups = await _stats(
        client, groupBy=["OS_TYPE", "PROCESS_NAME"], filter={"processName": {"like": "%d"}}
    )
    assert [(g["osType"], g["processName"], g["processCount"]) for g in groups] == [
        ("linux", "systemd", 2)
    ]


async def test_hourly_buckets_of_cpu(client: httpx.AsyncClient) -> None:
    groups = await _stats(
        client,
        groupBy=["PROCESS_NAME"],
        bucket="5m",
        filter={"processName": {"equalTo": "systemd"}},
        **{"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
    )
    assert [(g["bucketStart"], g["avgCpuPercent"]) for g in groups] == [
        ("2024-05-01T10:05:00+00:00", 0.5),
        ("2024-05-01T10:10:00+00:00", 0.0),
    ]
    (hour,) = await _stats(client, groupBy=[], bucket="1h")
    assert (hour["bucketStart"], hour["processCount"]) == ("2024-05-01T10:00:00+00:00", 4)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), ("2w", 1209600)]
)
def test_buckets_read(text: str, seconds: int) -> None:
    assert parse_bucket(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["0h", "1.5h", "h", "1y", "1 h", "9999999h"])
def test_bad_buckets_are_refused(text: str) -> None:
    with pytest.raises(UserInputError, match="bucket must be a whole number and a unit"):
        parse_bucket(text)


LABEL_STATS = """query ($groupBy: [ProcessGroupBy!]!, $label: String, $filter: ProcessFilter) {
  processStats(groupBy: $groupBy, label: $label, filter: $filter) {
    label machineId processCount snapshotCount cpuSeconds } }"""


async def _label_stats(client: httpx.AsyncClient, **variables: Any) -> list[dict[str, Any]]:
    body = await post(client, LABEL_STATS, **variables)
    assert "errors" not in body, body
    groups: list[dict[str, Any]] = body["data"]["processStats"]
    return groups


async def test_grouped_by_one_labels_value_each_snapshot_in_the_group_it_said(
    labelled: httpx.AsyncClient,
) -> None:
    groups = await _label_stats(labelled, groupBy=["LABEL"], label="role")
    # web-2's first listing said staging, its second web; old-1 has no labels. Each nginx
    # measured 30 CPU seconds in the second listing, db-1's postgres 60; first sightings none.
    assert [
        (g["label"], g["processCount"], g["snapshotCount"], g["cpuSeconds"]) for g in groups
    ] == [
        ("db", 4, 2, pytest.approx(60.0)),
        ("staging", 2, 1, None),
        ("web", 6, 3, pytest.approx(60.0)),
        (None, 4, 2, pytest.approx(6.0)),
    ]
    assert {g["machineId"] for g in groups} == {None}


async def test_a_label_grouped_with_other_columns_and_a_labels_filter(
    labelled: httpx.AsyncClient,
) -> None:
    groups = await _label_stats(
        labelled,
        groupBy=["MACHINE", "LABEL"],
        label="site",
        filter={"labels": [{"name": "role", "in": ["web", "db"]}]},
    )
    assert [(g["machineId"], g["label"], g["processCount"]) for g in groups] == [
        ("db-1", "eu", 4),
        ("web-1", "eu", 4),
        ("web-2", "us", 2),
    ]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"groupBy": ["LABEL"]}, "processStats: groupBy LABEL needs label, the name of the label"),
        (
            {"groupBy": ["MACHINE"], "label": "role"},
            "processStats: label names the label that LABEL groups by; add LABEL to groupBy",
        ),
        ({"groupBy": ["LABEL"], "label": "ro le"}, "processStats: label: label name 'ro le'"),
    ],
)
async def test_label_and_label_grouping_go_together(
    labelled: httpx.AsyncClient, variables: dict[str, Any], expected: str
) -> None:
    body = await post(labelled, LABEL_STATS, **variables)
    [error] = body["errors"]
    assert error["message"].startswith(expected), error
