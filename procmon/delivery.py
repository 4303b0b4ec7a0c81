"""Getting a collector agent's listings to the broker, through the spool while it is away.

One producer serves the agent's whole life. A listing goes straight to the broker while the
broker takes it and nothing waits in the spool; otherwise it is spooled behind those already
there, so that a machine's listings reach the topic in the order they were taken. Every send
is bounded (``PROCMON_KAFKA_SEND_TIMEOUT``): a broker that does not acknowledge in time counts
as away, and is tried again with backoff. A spooled listing is deleted only once the broker
acknowledged it.

A listing the broker took but acknowledged too late stays with the producer, which may still
deliver it; that send is awaited again rather than repeated when its spooled copy comes up,
and a copy that arrives twice all the same is stored once (the workers deduplicate).
"""

from __future__ import annotations

import asyncio
import collections
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from procmon.errors import CollectorError
from procmon.kafka import producer_options
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
        """Deliver to ``settings.topic``, spooling to ``spool``, backing off by ``clock``."""
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
        self._pending: collections.deque[Message] = collections.deque()
        self._in_flight: dict[Message, asyncio.Future[object]] = {}
        self._wake = asyncio.Event()
        self._closing = False
        self._retry_at: float | None = None
        self._backoff = _FIRST_RETRY_SECONDS
        self._spooled_while_away = 0

    def submit(self, message: Message) -> None:
        """Hand over a new listing: it is sent after everything handed over or spooled before."""
        self._pending.append(message)
        self._wake.set()

    def finish(self) -> None:
        """Ask :meth:`run` to send what it holds and end."""
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver listings as they are handed over until :meth:`finish`, then stop the
        producer; what the broker did not acknowledge by then is in the spool."""
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
            self._spool_pending()
            await self.stop_producer()

    async def send_spool(self) -> int:
        """Send every spooled listing, oldest first; return how many were sent.

        Raises CollectorError when the broker does not take one.
        """
        await self._start()
        sent = 0
        while (spooled := self._spool.oldest()) is not None:
            await self._send(spooled.key, spooled.value)
            self._spool.remove(spooled)
            sent += 1
        return sent

    async def stop_producer(self) -> None:
        """Stop the producer, giving up after the send timeout (it waits for an away broker)."""
        try:
            await asyncio.wait_for(self._producer.stop(), self._settings.kafka_send_timeout)
        except TimeoutError:
            log.warning(
                "the producer did not stop within %s s (the broker is away); the listings it "
                "held are in the spool",
                self._settings.kafka_send_timeout,
            )

    async def _drain(self) -> None:
        """Send the spool, then the listings handed over, unless the broker is known to be
        away and not due for another try: then spool them."""
        if self._retry_at is not None and self._clock.now() < self._retry_at:
            self._spool_pending()
            return
        try:
            sent = await self.send_spool()
            while self._pending:
                await self._send(*self._pending[0])
                self._pending.popleft()
        except CollectorError as exc:
            self._spool_pending()
            self._back_off(exc)
            return
        if sent:
            log.info("sent %d spooled listing(s), oldest first; the spool is empty", sent)
        if self._retry_at is not None:
            log.info(
                "the broker answers again; %d listing(s) were spooled while it was away",
                self._spooled_while_away,
            )
            self._retry_at = None
            self._backoff = _FIRST_RETRY_SECONDS
            self._spooled_while_away = 0

    def _back_off(self, exc: CollectorError) -> None:
        if self._retry_at is not None:
            self._backoff = min(self._backoff * 2, _MAX_RETRY_SECONDS)
        self._retry_at = self._clock.now() + self._backoff
        log.warning("%s; trying again in %.0f s", exc, self._backoff)

    def _spool_pending(self) -> None:
        spooled = 0
        while self._pending:
            try:
                self._spool.put(*self._pending[0])
            except CollectorError as exc:
                log.error("a listing is lost: %s", exc)
            else:
                spooled += 1
            self._pending.popleft()
        if spooled:
            self._spooled_while_away += spooled
            log.warning(
                "spooled %d listing(s): %d since the broker went away, %d in the spool %s",
                spooled,
                self._spooled_while_away,
                len(self._spool),
                self._spool.directory,
            )

    async def _start(self) -> None:
        if self._started:
            return
        try:
            await asyncio.wait_for(self._producer.start(), self._settings.kafka_send_timeout)
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
