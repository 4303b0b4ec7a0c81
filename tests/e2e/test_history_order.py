"""Process history through the broker and a real worker: snapshots published in any order, in
any batches, end with the keys and intervals in-order arrival gives."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import Workers, produce, wait_for, worker_settings
from tests.streams.history_sequences import MAX_GAP, in_order, machine_history, stored

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with migrated_database("procmon_history_order") as url:
        yield url


@pytest.fixture(scope="module")
def workers(
    broker: str, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    log_dir = tmp_path_factory.mktemp("history-order")
    prefix = f"history-order-{uuid.uuid4().hex[:8]}"
    group = Workers(
        worker_settings(
            broker, database, prefix, history_max_gap=MAX_GAP, parking_dir=log_dir / "parked"
        ),
        log_dir,
    )
    group.start()
    yield group
    group.stop_all()


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_any_publishing_order_ends_as_in_order_arrival(
    workers: Workers, database: str, broker: str, seed: int, data: st.DataObject
) -> None:
    # Machines of this example's own: the worker and its memory carry over between examples.
    machines = [f"order-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    envelopes = machine_history(seed, machines[0], 12) + machine_history(seed + 1, machines[1], 8)
    published = data.draw(st.permutations(envelopes))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(published) - 1), max_size=4)))
    already = stored_counts(database)[0]
    for start, end in zip([0, *cuts], [*cuts, len(published)], strict=True):
        produce(broker, workers.settings.topic, published[start:end])
    wait_for(
        lambda: stored_counts(database)[0] >= already + len(envelopes),
        f"{len(envelopes)} snapshots stored",
    )
    assert stored(database, machines) == in_order(envelopes), workers.logs()[-2000:]


def test_the_worker_stored_every_batch_whole(workers: Workers) -> None:
    logs = workers.logs()
    assert "batch committed" in logs
    # Relinking out-of-order snapshots never made PostgreSQL refuse a batch.
    assert " ERROR " not in logs
    assert "refused" not in logs
