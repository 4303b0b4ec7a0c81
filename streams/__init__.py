"""The ingest worker: Faust agents that store raw listings from Kafka in PostgreSQL."""

from streams.app import build_app, run_worker

__all__ = ["build_app", "run_worker"]
