"""Process history as the worker stores it: each stored snapshot linked to the one before it on
its machine, whatever order snapshots arrive in.

Inside the transaction that stores a batch:

1. :meth:`ProcessHistory.link_batch`, before the COPY, links each machine's snapshots in time
   order to the latest snapshot of the machine this process remembers (or reads back, once),
   so the rows are written with their history: in order, nothing is read back;
2. :meth:`ProcessHistory.settle`, after the COPY, waits for this process's earlier batches
   of the same machines, takes a lock per machine (so two writers of one machine take turns)
   and checks that what was remembered is what is stored. Where it is not (a snapshot that
   arrived before or between stored ones, another worker's write, a batch that failed) the
   machine's new snapshots are linked again to what is stored, and the stored snapshot after
   each is linked again to it, its changed keys carried along the rest of their chains.

Rows rewritten in a snapshot the daily rollup counted make it count their days again
(:func:`streams.rollup.forget_days`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from history import HistoryValues, LinkedSnapshot, SnapshotPlace, link_snapshot
from procmon.settings import Settings
from streams.batch import Snapshot
from streams.sql import (
    INSERT_PROCESS_KEYS,
    LATEST_SNAPSHOTS,
    LOCK_MACHINES,
    NEXT_SNAPSHOT,
    PREVIOUS_SNAPSHOT,
    RELABEL_CHAINS,
    as_columns,
)
from streams.stored_history import (
    Cursor,
    StoredSnapshot,
    forget_rewritten,
    read_rows,
    stored_form,
    update_history,
)

__all__ = ["HistoryPlan", "ProcessHistory"]

_Order = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class _Remembered:
    """The latest snapshot of a machine, as this process linked or read it."""

    command_id: int
    revision: int
    order: _Order
    linked: LinkedSnapshot


@dataclass(slots=True)
class _Linked:
    """A snapshot of the batch, stored now, and the history its rows were copied with."""

    snapshot: Snapshot
    command_id: int
    values: list[HistoryValues]
    linked: LinkedSnapshot

    @property
    def place(self) -> SnapshotPlace:
        return _place(self.snapshot)

    @property
    def order(self) -> _Order:
        return self.snapshot.order


@dataclass(slots=True)
class HistoryPlan:
    """What one transaction linked: per machine its snapshots in time order, and what for."""

    # Set when the transaction ends: the later batches of the same machines wait for it.
    done: asyncio.Future[None]
    machines: dict[str, list[_Linked]] = field(default_factory=dict)
    # The latest stored snapshot each machine's first one was linked to: (id, revision), or
    # None when none was; a machine absent here was linked provisionally (out of order).
    assumed: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    waits: list[asyncio.Future[None]] = field(default_factory=list)
    _by_id: dict[int, _Linked] = field(default_factory=dict, repr=False)

    def values_of(self, command_id: int) -> list[HistoryValues]:
        """The history the rows of snapshot ``command_id`` are to be copied with."""
        return self._by_id[command_id].values

    def add(self, machine_id: str, linked: list[_Linked]) -> None:
        """Plan the machine's snapshots, linked in its time order."""
        self.machines[machine_id] = linked
        self._by_id.update((item.command_id, item) for item in linked)

    @property
    def command_ids(self) -> list[int]:
        """Every snapshot of the batch this plan linked."""
        return list(self._by_id)


def _place(snapshot: Snapshot) -> SnapshotPlace:
    envelope = snapshot.envelope
    return SnapshotPlace(envelope.machine_id, envelope.timestamp, envelope.content_hash)


class ProcessHistory:
    """Links the batches of one process; its writers share it (see the module's docstring)."""

    def __init__(self, *, max_gap_seconds: float, memory_size: int) -> None:
        """Measure intervals up to ``max_gap_seconds``; remember ``memory_size`` machines."""
        self._max_gap = max_gap_seconds
        self._memory_size = memory_size
        self._memory: OrderedDict[str, _Remembered] = OrderedDict()
        self._busy: dict[str, asyncio.Future[None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessHistory:
        """The history of a process under these settings (PROCMON_HISTORY_*)."""
        return cls(
            max_gap_seconds=settings.history_max_gap, memory_size=settings.history_memory_size
        )

    def _link(
        self, place: SnapshotPlace, rows: Sequence[Any], previous: LinkedSnapshot | None
    ) -> tuple[list[HistoryValues], LinkedSnapshot]:
        return link_snapshot(place, rows, previous, max_gap_seconds=self._max_gap)

    def _remember(self, machine_id: str, remembered: _Remembered) -> None:
        self._memory[machine_id] = remembered
        self._memory.move_to_end(machine_id)
        while len(self._memory) > self._memory_size:
            self._memory.popitem(last=False)

    async def link_batch(self, cur: Cursor, stored: Sequence[tuple[Snapshot, int]]) -> HistoryPlan:
        """Link the snapshots ``stored`` now (with their ids) before their rows are copied."""
        plan = HistoryPlan(done=asyncio.get_running_loop().create_future())
        by_machine: dict[str, list[tuple[Snapshot, int]]] = {}
        for snapshot, command_id in stored:
            by_machine.setdefault(snapshot.envelope.machine_id, []).append((snapshot, command_id))
        unknown = [machine for machine in by_machine if machine not in self._memory]
        if unknown:
            await self._read_latest(cur, unknown, [command_id for _, command_id in stored])
        for machine_id in sorted(by_machine):
            ordered = sorted(by_machine[machine_id], key=lambda pair: pair[0].order)
            remembered = self._memory.pop(machine_id, None)
            previous = None
            if remembered is None or remembered.order < ordered[0][0].order:
                previous = remembered.linked if remembered is not None else None
                plan.assumed[machine_id] = (
                    None if remembered is None else (remembered.command_id, remembered.revision)
                )
            linked: list[_Linked] = []
            for snapshot, command_id in ordered:
                values, previous = self._link(_place(snapshot), snapshot.rows, previous)
                linked.append(_Linked(snapshot, command_id, values, previous))
            plan.add(machine_id, linked)
            if machine_id in plan.assumed:
                last = linked[-1]
                self._remember(machine_id, _Remembered(last.command_id, 0, last.order, last.linked))
            prior = self._busy.get(machine_id)
            if prior is not None and not prior.done():
                plan.waits.append(prior)
            self._busy[machine_id] = plan.done
        return plan

    async def _read_latest(self, cur: Cursor, machines: list[str], exclude: list[int]) -> None:
        """Remember the latest stored snapshot of each of ``machines`` (not those of the batch)."""
        await cur.execute(LATEST_SNAPSHOTS, {"machines": machines, "exclude": exclude})
        latest = await cur.fetchall()
        if not latest:
            return
        rows = await read_rows(cur, [(int(row[1]), row[3]) for row in latest])
        for machine_id, command_id, revision, timestamp, content_hash in latest:
            of_snapshot = rows.get(command_id, [])
            linked = LinkedSnapshot.of(timestamp, ((row, row.process_key) for row in of_snapshot))
            self._remember(
                machine_id, _Remembered(command_id, revision, (timestamp, content_hash), linked)
            )

    async def settle(self, cur: Cursor, plan: HistoryPlan) -> None:
        """After the COPY: make the batch's history what in-order arrival would have made it."""
        if not plan.machines:
            return
        await asyncio.gather(*plan.waits, return_exceptions=True)
        machines = sorted(plan.machines)
        await cur.execute(LOCK_MACHINES, (machines,))
        await cur.execute(LATEST_SNAPSHOTS, {"machines": machines, "exclude": plan.command_ids})
        actual: dict[str, tuple[int, int] | None] = dict.fromkeys(machines)
        for machine_id, command_id, revision, _, _ in await cur.fetchall():
            actual[machine_id] = (int(command_id), int(revision))
        firsts: list[tuple[int, str, datetime]] = []
        for machine_id in machines:
            linked = plan.machines[machine_id]
            if machine_id not in plan.assumed or plan.assumed[machine_id] != actual[machine_id]:
                linked_again = await self._relink(cur, machine_id, linked, plan.command_ids)
            else:
                linked_again = []
            for snapshot in [*(item.linked for item in linked), *linked_again]:
                firsts += ((key, machine_id, snapshot.observed_at) for key in snapshot.new_keys)
        if firsts:
            await cur.execute(INSERT_PROCESS_KEYS, as_columns(firsts))

    async def _relink(
        self, cur: Cursor, machine_id: str, linked: list[_Linked], batch: list[int]
    ) -> list[LinkedSnapshot]:
        """Link the machine's new snapshots to what is stored, and what follows each to it;
        return the stored snapshots linked again."""
        self._memory.pop(machine_id, None)
        relinked: dict[int, LinkedSnapshot] = {}
        linked_again: list[LinkedSnapshot] = []
        rewritten: set[StoredSnapshot] = set()
        has_next = False
        for item in linked:
            place = item.place
            await cur.execute(
                PREVIOUS_SNAPSHOT, (machine_id, place.observed_at, place.content_hash)
            )
            before = await cur.fetchone()
            previous: LinkedSnapshot | None = None
            if before is not None and int(before[0]) in relinked:
                previous = relinked[int(before[0])]
            elif before is not None:
                stored = (int(before[0]), before[1])
                rows = (await read_rows(cur, [stored])).get(stored[0], [])
                previous = LinkedSnapshot.of(before[1], ((r, r.process_key) for r in rows))
            values, item.linked = self._link(place, item.snapshot.rows, previous)
            changed = [
                (row.line_number, *new)
                for row, new, old in zip(item.snapshot.rows, values, item.values, strict=True)
                if new != old
            ]
            if changed:
                await update_history(cur, (item.command_id, place.observed_at), changed)
            item.values = values
            relinked[item.command_id] = item.linked
            await cur.execute(NEXT_SNAPSHOT, (machine_id, place.observed_at, place.content_hash))
            after = await cur.fetchone()
            has_next = after is not None
            if after is not None and int(after[0]) not in batch:
                next_linked, next_rewritten = await self._relink_next(
                    cur, machine_id, after, item.linked, batch
                )
                linked_again.append(next_linked)
                rewritten |= next_rewritten
        if rewritten:
            await forget_rewritten(cur, machine_id, rewritten)
        if not has_next:
            last = linked[-1]
            self._remember(machine_id, _Remembered(last.command_id, 0, last.order, last.linked))
        return linked_again

    async def _relink_next(
        self,
        cur: Cursor,
        machine_id: str,
        after: tuple[Any, ...],
        previous: LinkedSnapshot,
        batch: list[int],
    ) -> tuple[LinkedSnapshot, set[StoredSnapshot]]:
        """Link the stored snapshot ``after`` to ``previous``: it as linked, and the ids of the
        snapshots rewritten."""
        command_id, timestamp, content_hash = int(after[0]), after[1], str(after[2])
        rows = (await read_rows(cur, [(command_id, timestamp)])).get(command_id, [])
        place = SnapshotPlace(machine_id, timestamp, content_hash)
        values, linked = self._link(place, rows, previous)
        changed: list[tuple[int, int, float | None, float | None]] = []
        relabels: dict[int, int] = {}
        for row, new in zip(rows, values, strict=True):
            if row.history != stored_form(new):
                changed.append((row.line_number, *new))
                if row.process_key is not None and row.process_key != new[0]:
                    relabels[row.process_key] = new[0]
        if not changed:
            return linked, set()
        await update_history(cur, (command_id, timestamp), changed)
        rewritten = {(command_id, timestamp)}
        if relabels:
            await cur.execute(
                RELABEL_CHAINS,
                {
                    "old": list(relabels),
                    "new": list(relabels.values()),
                    "machine_id": machine_id,
                    "timestamp": timestamp,
                    "content_hash": content_hash,
                    "skip": [*batch, command_id],
                },
            )
            rewritten |= {(int(row[0]), row[1]) for row in await cur.fetchall()}
        return linked, rewritten

    def finish(self, plan: HistoryPlan) -> None:
        """The plan's transaction ended (committed or not): later batches may settle."""
        if plan.done.done():
            return
        plan.done.set_result(None)
        for machine_id in plan.machines:
            if self._busy.get(machine_id) is plan.done:
                del self._busy[machine_id]
