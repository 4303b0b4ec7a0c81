"""``procmon collect``: one listing published now, or the collector agent, every interval.

The agent takes this machine's listing on the ticks of its :class:`~procmon.schedule.Schedule`
and hands each to a :class:`~procmon.delivery.Delivery`, which spools it and sends the spool.
Listings run in a thread and delivery in a task of its own, so a broker that is away (a send
waiting for its timeout) never holds up a tick. SIGTERM and SIGINT end it after the tick in
progress, once the spool is sent (or, the broker being away, left for the next run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from procmon.collector import MachineIdentity, collect_listing
from procmon.delivery import Delivery
from procmon.envelope import Envelope
from procmon.errors import CollectorError, ObjectStoreError
from procmon.kafka import message_for, publish
from procmon.listing_commands import check_readable, listing_commands
from procmon.object_store import open_store
from procmon.schedule import Clock, Schedule, SystemClock, sleep_unless
from procmon.settings import Settings
from procmon.spool import Spool

__all__ = ["Collect", "Command", "Ticker", "collect", "run_agent"]

log = logging.getLogger("procmon.agent")

Command = tuple[str, ...]
"""A listing command as argv."""
Collect = Callable[[MachineIdentity, datetime, Command], Envelope]
"""Takes one listing of a machine with one command: :func:`procmon.collector.collect_listing`."""


def collect(settings: Settings, identity: MachineIdentity, interval: float | None) -> None:
    """Publish ``identity``'s listings once (a broker failure raises CollectorError, for the
    person running it), or run the agent every ``interval`` seconds until a signal.

    Each of the settings' listing commands runs once a tick; a command whose first listing
    the parsers cannot read is refused (ConfigurationError), as it would be every time.
    """
    commands = listing_commands(settings, identity.os_type)
    take = _checking_first_listings(commands)
    if interval is not None:
        asyncio.run(run_agent(settings, identity, interval, commands=commands, collect=take))
        return
    now = datetime.now(UTC).astimezone()
    envelopes = [take(identity, now, argv) for argv in commands]
    asyncio.run(publish(settings, envelopes))
    for envelope in envelopes:
        log.info(
            "published %r of %s (%s) at %s",
            envelope.command_type,
            identity.machine_name,
            identity.machine_id,
            envelope.timestamp.isoformat(),
        )


def _checking_first_listings(commands: Sequence[Command]) -> Collect:
    """:func:`collect_listing`, checking each command's first listing with check_readable."""
    unchecked = set(commands)

    def take(identity: MachineIdentity, now: datetime, argv: Command) -> Envelope:
        envelope = collect_listing(identity, now, argv)
        if argv in unchecked:
            check_readable(envelope)
            unchecked.discard(argv)
        return envelope

    return take


class Ticker:
    """Takes a machine's listings on its schedule until :meth:`stop`."""

    def __init__(
        self,
        schedule: Schedule,
        identity: MachineIdentity,
        *,
        clock: Clock,
        commands: Sequence[Command],
        collect: Collect = collect_listing,
    ) -> None:
        """Take ``identity``'s listings of ``commands`` with ``collect`` on ``schedule``,
        timed by ``clock``."""
        self._schedule = schedule
        self._identity = identity
        self._commands = commands
        self._clock = clock
        self._collect = collect
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End :meth:`run` once the tick in progress, if any, is done."""
        self._stop.set()

    async def run(self, handle: Callable[[Envelope], None]) -> None:
        """Take each command's listing at every tick and give it to ``handle``; listings that
        run past ticks skip them and say so, and one that fails is logged and the next taken."""
        schedule = self._schedule
        index = schedule.first_at_or_after(self._clock.now())
        log.info(
            "taking listings every %s s, %.3f s into each interval (this machine's offset)",
            schedule.interval,
            schedule.offset,
        )
        while True:
            if schedule.at(index) - self._clock.now() > schedule.interval:
                # The clock was set back: the schedule goes on from the new time, rather than
                # waiting for the old one to come round again.
                index = schedule.first_at_or_after(self._clock.now())
            await sleep_unless(self._clock, schedule.at(index) - self._clock.now(), self._stop)
            if self._stop.is_set():
                return
            started = self._clock.now()
            for argv in self._commands:
                try:
                    envelope = await asyncio.to_thread(
                        self._collect, self._identity, datetime.fromtimestamp(started, UTC), argv
                    )
                except CollectorError as exc:
                    log.error("no listing of %r at tick %d: %s", " ".join(argv), index, exc)
                else:
                    handle(envelope)
                    log.info("took the listing at %s", envelope.timestamp.isoformat())
            index, skipped = schedule.next_after(index, self._clock.now())
            if skipped:
                log.warning(
                    "the listing took %.1f s, longer than the interval of %s s: skipped %d tick(s)",
                    self._clock.now() - started,
                    schedule.interval,
                    skipped,
                )


async def run_agent(
    settings: Settings,
    identity: MachineIdentity,
    interval: float,
    *,
    commands: Sequence[Command],
    clock: Clock | None = None,
    collect: Collect = collect_listing,
) -> None:
    """Take ``identity``'s listings every ``interval`` seconds and deliver them through the
    spool, until SIGTERM or SIGINT."""
    clock = clock or SystemClock()
    spool = Spool(settings.spool_dir, settings.spool_max_bytes)
    if removed := spool.remove_half_written():
        log.warning("removed %d half-written file(s) a killed agent left in the spool", removed)
    delivery = Delivery(settings, spool, clock)
    ticker = Ticker(
        Schedule.for_machine(identity.machine_id, interval),
        identity,
        clock=clock,
        commands=commands,
        collect=collect,
    )
    store = open_store(settings.object_store_url)

    def handle(envelope: Envelope) -> None:
        try:
            delivery.submit(message_for(settings, envelope, store))
        except (CollectorError, ObjectStoreError) as exc:
            log.error("the listing at %s cannot be sent: %s", envelope.timestamp.isoformat(), exc)

    delivering = asyncio.create_task(delivery.run())
    try:
        with _stopping_on_signals(ticker.stop):
            await ticker.run(handle)
    finally:
        delivery.finish()
        await delivering
    log.info("stopped; %d listing(s) left in the spool %s", len(spool), spool.directory)


@contextlib.contextmanager
def _stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` on SIGTERM or SIGINT for the duration of the block."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    try:
        for number in signals:
            loop.add_signal_handler(number, stop)
    except NotImplementedError:
        # Windows' event loops take no signal handlers: the handler hands over to the loop.
        for number in signals:
            signal.signal(number, lambda _number, _frame: loop.call_soon_threadsafe(stop))
        yield
        return
    try:
        yield
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
