"""The worker's maintenance round: the time partitions ahead of the clock, then retention.

Every worker runs it every ``PROCMON_MAINTENANCE_INTERVAL`` seconds. Creating partitions takes
turns in the database (procmon_ensure_partitions), and retention runs in one worker at a time
(its advisory lock; ``procmon retention run`` from cron takes the same one), so several
workers, and cron beside them, do each step once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import psycopg

from procmon.errors import StorageError
from procmon.partitions import ensure_ahead
from procmon.retention import describe_run, retain
from procmon.settings import Settings

__all__ = ["maintain"]

log = logging.getLogger(__name__)


def maintain(settings: Settings, *, now: datetime | None = None) -> None:
    """One round at ``now`` (the clock's by default). A failure is logged, not raised: the next
    round tries again, and the worker goes on storing listings (their partitions are made as
    batches need them)."""
    moment = now or datetime.now(UTC)
    try:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            created = ensure_ahead(
                conn,
                now=moment,
                width_days=settings.partition_days,
                ahead_days=settings.partitions_ahead_days,
            )
        if created:
            log.info("created the partitions %s", ", ".join(created))
        run = retain(settings, today=moment.date())
        if run is not None:
            for line in describe_run(run):
                log.info("retention: %s", line)
    except (psycopg.Error, StorageError) as exc:
        log.warning(
            "maintenance round failed, trying again in %gs: %s", settings.maintenance_interval, exc
        )
