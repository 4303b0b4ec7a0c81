"""Snapshots delivered to the writer as a live topic may deliver them: in any order, some
again, in batches of any size, over one writer, two in flight, or two workers'."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from streams.batch import PreparedBatch, Snapshot
from streams.history import ProcessHistory
from streams.writer import SnapshotWriter

__all__ = ["ARRIVALS", "deliver_as_drawn"]

# For property tests of deliveries: each example writes to the database, a while.
ARRIVALS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


async def deliver_as_drawn(
    database_url: str,
    tmp_path: Path,
    snapshots: list[Snapshot],
    data: st.DataObject,
    *,
    history: Callable[[], ProcessHistory],
    redelivered: int,
) -> None:
    """Empty the database's snapshots, then store ``snapshots`` in an order, batches and
    writers drawn from ``data``, up to ``redelivered`` of them twice; ``history`` makes a
    worker's process history."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "TRUNCATE commands, raw_outputs, processes, machines, process_keys RESTART IDENTITY"
        )
    arrival = data.draw(st.permutations(snapshots))
    # Some arrive twice (a redelivery); batches of any size, over one writer or two at once.
    arrival += data.draw(st.lists(st.sampled_from(snapshots), max_size=redelivered))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=6)))
    # Within a batch the worker drops a repeat before writing (PreparedBatch.add).
    batches = [
        list({id(s): s for s in arrival[a:b]}.values())
        for a, b in zip([0, *cuts], [*cuts, len(arrival)], strict=True)
    ]
    mode = data.draw(st.sampled_from(["one writer", "two in flight", "two workers"]))
    shared = history()
    writers = [
        SnapshotWriter(
            database_url,
            retry_attempts=1,
            parking_dir=tmp_path,
            history=shared if mode != "two workers" else history(),
        )
        for _ in range(2)
    ]
    if mode == "two in flight":
        # As the worker does: the next batch is written while the one before is in flight.
        for start in range(0, len(batches), 2):
            await asyncio.gather(
                *(
                    writer.write(PreparedBatch(snapshots=batch))
                    for writer, batch in zip(writers, batches[start : start + 2], strict=False)
                )
            )
    else:
        # Two workers (a partition moving between them) each remember what they wrote.
        for index, batch in enumerate(batches):
            await writers[index % 2 if mode == "two workers" else 0].write(
                PreparedBatch(snapshots=batch)
            )
    for writer in writers:
        await writer.close()
