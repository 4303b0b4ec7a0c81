"""Listings of days without partitions, through the broker and two real workers: from 2019,
from next month, many machines of one new day at once. Each is stored, none is refused, and
the day's partitions are made once, by whichever worker came first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from procmon.envelope import Envelope, make_envelope
from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import HEADER, Workers, produce, wait_for, worker_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

OLD = datetime(2019, 3, 1, 23, 59, 30, tzinfo=UTC)
# Next month, past the days `procmon migrate` made ahead of the clock.
LATER = datetime.now(UTC).replace(microsecond=0) + timedelta(days=35)


def _listing(machine: str, when: datetime) -> Envelope:
    rows = "\n".join(
        f"root {100 + r} 0.{r} 0.1 {1000 + r} {500 + r} ? S 10:00 0:01 /bin/p{r}" for r in range(3)
    )
    return make_envelope(
        raw_output=f"{HEADER}\n{rows}\n",
        machine_id=machine,
        machine_name=machine,
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=when,
    )


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with migrated_database("procmon_partitions_live") as url:
        yield url


@pytest.fixture(scope="module")
def workers(
    broker: str, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    log_dir = tmp_path_factory.mktemp("partitions-live")
    settings = worker_settings(
        broker,
        database,
        f"partitions-{uuid.uuid4().hex[:8]}",
        parking_dir=log_dir / "parked",
        # A listing of next month is accepted; how far ahead is the operator's choice.
        max_clock_ahead_seconds=60 * 86_400,
        topic_partitions=4,
    )
    group = Workers(settings, log_dir)
    group.start()
    group.start()
    yield group
    group.stop_all()


def test_listings_of_any_day_are_stored(workers: Workers, database: str, broker: str) -> None:
    envelopes = [_listing(f"old-{n}", OLD + timedelta(seconds=n)) for n in range(24)]
    envelopes += [_listing(f"later-{n}", LATER + timedelta(seconds=n)) for n in range(24)]
    produce(broker, workers.settings.topic, envelopes)
    wait_for(lambda: stored_counts(database)[0] >= len(envelopes), "every listing stored")
    assert stored_counts(database) == (48, 144, 0), workers.logs()[-3000:]
    with psycopg.connect(database) as conn:
        places = conn.execute(
            """SELECT tableoid::regclass::text, count(*) FROM commands GROUP BY 1
               UNION ALL
               SELECT tableoid::regclass::text, count(*) FROM processes GROUP BY 1
               ORDER BY 1"""
        ).fetchall()
    assert places == [
        (f"commands_{OLD:%Y%m%d}", 24),
        (f"commands_{LATER:%Y%m%d}", 24),
        (f"processes_{OLD:%Y%m%d}", 72),
        (f"processes_{LATER:%Y%m%d}", 72),
    ]
    logs = workers.logs()
    assert " ERROR " not in logs
    assert "refused" not in logs
