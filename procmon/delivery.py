"""Getting a collector agent's listings to the broker, through its spool.

Every listing is spooled as it is handed over, before anything is sent, and its file deleted
only once the broker acknowledged it: a process killed at any moment leaves every listing it
took either on the broker or in the spool. The spool is sent oldest first, so a machine's
listings reach the topic in the order they were taken. One producer serves the agent's whole
life. Every send is bounded (``PROCMON_KAFKA_SEND_TIMEOUT``): a broker that does not
acknowledge in time counts as away, and is tried again with backoff while listings pile up in
the spool.

A listing the broker took but acknowledged too late stays with the producer, which may still
deliver it; the next try awaits that send again rather than repeating it, and a copy that
arrives twice all the same is stored once (the workers deduplicate).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from procmon.errors import CollectorError
from procmon.kafka import producer_options
from procmon.kafka_security import start_client
from procmon.schedule import Clock, SystemClock, sleep_unless
from procmon.settings import Settings
from procmon.spool import Spool

__all__ = ["Delivery", "Message", "flush_spool"]

log = logging.getLogger("procmon.delivery")

Message = tuple[bytes, bytes]
"""A listing as Kafka sends it: the key (the machine id) and the value (the envelope)."""

# Tries of an away broker: after 1 s, then twice as long each time, up to half a minute.
_FIRST_RETRY_SECONDS = 1.0
_MAX_RETRY_SECONDS = 30.0


class Delivery:
    """The producer and the spool of one collector agent; make it inside the running loop."""

    def __init__(self, settings: Settings, spool: Spool, clock: Clock) -> None:
        """Deliver to ``settings.topic`` from ``spool``, backing off by ``clock``."""
        self._settings = settings
        self._spool = spool
        self._clock = clock
        # aiokafka's own request timeout bounds what it waits for one answer; the send as a
        # whole (which retries within it) is bounded by wait_for below.
        timeout_ms = int(settings.kafka_send_timeout * 1000)
        self._producer = AIOKafkaProducer(
            **{**producer_options(settings), "request_timeout_ms": timeout_ms}
        )
        self._started = False
        self._in_flight: dict[Message, asyncio.Future[object]] = {}
        self._wake = asyncio.Event()
        self._closing = False
        self._retry_at: float | None = None
        self._backoff = _FIRST_RETRY_SECONDS
        # What an earlier run left is announced once sent, as what waited for an away broker.
        self._waiting = len(spool)

    def submit(self, message: Message) -> None:
        """Spool a new listing, to be sent after every one spooled before it."""
        try:
            self._spool.put(*message)
        except CollectorError as exc:
            log.error("a listing is lost: %s", exc)
            return
        if self._retry_at is not None:
            self._waiting += 1
            log.warning(
                "spooled a listing while the broker is away: %d spooled since, %d in the spool %s",
                self._waiting,
                len(self._spool),
                self._spool.directory,
            )
        self._wake.set()

    def finish(self) -> None:
        """Ask :meth:`run` to send what is spooled, unless the broker is away, and end."""
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Send the spool whenever a listing is handed over, or the broker is due another try,
        until :meth:`finish`; then stop the producer."""
        try:
            while not self._closing:
                if self._retry_at is None:
                    await self._wake.wait()
                else:
                    await sleep_unless(self._clock, self._retry_at - self._clock.now(), self._wake)
                self._wake.clear()
                await self._drain()
            await self._drain()
        finally:
            await self.stop_producer()

    async def send_spool(self) -> int:
        """Send every spooled listing, oldest first, deleting each once acknowledged; return
        how many were sent. Raises CollectorError when the broker does not take one."""
        if not len(self._spool):
            return 0
        await self._start()
        sent = 0
        while True:
            before = sent
            for spooled in self._spool.oldest_first():
                await self._send(spooled.key, spooled.value)
                self._spool.remove(spooled)
                sent += 1
            if sent == before:
                return sent

    async def stop_producer(self) -> None:
        """Stop the producer, giving up after the send timeout (it waits for an away broker)."""
        try:
            await asyncio.wait_for(self._producer.stop(), self._settings.kafka_send_timeout)
        except TimeoutError:
            log.warning(
                "the producer did not stop within %s s (the broker is away); what it held is "
                "in the spool",
                self._settings.kafka_send_timeout,
            )

    async def _drain(self) -> None:
        """Send the spool, unless the broker is away and not due another try yet."""
        if self._retry_at is not None and self._clock.now() < self._retry_at:
            return
        try:
            sent = await self.send_spool()
        except CollectorError as exc:
            if self._retry_at is None:
                self._waiting = len(self._spool)
                self._backoff = _FIRST_RETRY_SECONDS
            else:
                self._backoff = min(self._backoff * 2, _MAX_RETRY_SECONDS)
            self._retry_at = self._clock.now() + self._backoff
            log.warning(
                "%s; %d listing(s) wait in the spool %s; trying again in %.0f s",
                exc,
                len(self._spool),
                self._spool.directory,
                self._backoff,
            )
            return
        if self._waiting:
            log.info(
                "the broker takes listings again: sent %d spooled listing(s), oldest first; %d "
                "were spooled while it was away",
                sent,
                self._waiting,
            )
        self._retry_at = None
        self._waiting = 0

    async def _start(self) -> None:
        if self._started:
            return
        try:
            # A refused login is a ConfigurationError (start_client): it ends the agent with one
            # line, where retrying would only repeat it.
            await asyncio.wait_for(
                start_client(self._producer, self._settings), self._settings.kafka_send_timeout
            )
        except (KafkaError, TimeoutError) as exc:
            raise CollectorError(self._unreachable(exc)) from exc
        self._started = True

    async def _send(self, key: bytes, value: bytes) -> None:
        """Send one message and wait for its acknowledgement, both within the send timeout."""
        timeout = self._settings.kafka_send_timeout
        message = (key, value)
        try:
            if message not in self._in_flight:
                sent: asyncio.Future[object] = await asyncio.wait_for(
                    self._producer.send(self._settings.topic, value, key=key), timeout
                )
                self._in_flight[message] = sent
            # Shielded: a send that times out here stays with the producer (see above).
            await asyncio.wait_for(asyncio.shield(self._in_flight[message]), timeout)
        except (KafkaError, TimeoutError) as exc:
            future = self._in_flight.get(message)
            if future is not None and future.done():
                del self._in_flight[message]
            raise CollectorError(self._unreachable(exc)) from exc
        del self._in_flight[message]

    def _unreachable(self, exc: BaseException) -> str:
        timeout = self._settings.kafka_send_timeout
        reason = f"no answer within {timeout} s" if isinstance(exc, TimeoutError) else repr(exc)
        return f"the broker at {self._settings.kafka_bootstrap} did not take a listing: {reason}"


async def flush_spool(settings: Settings) -> int:
    """Send every listing of the spool in ``settings`` now, oldest first; return how many.

    Raises CollectorError, saying what is left, when the broker does not take one.
    """
    spool = Spool(settings.spool_dir, settings.spool_max_bytes)
    delivery = Delivery(settings, spool, SystemClock())
    try:
        return await delivery.send_spool()
    except CollectorError as exc:
        raise CollectorError(f"{exc}; {len(spool)} listing(s) left in {spool.directory}") from exc
    finally:
        await delivery.stop_producer()
