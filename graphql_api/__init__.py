"""The GraphQL API of procmon: research queries over the stored snapshots.

:func:`create_app` builds the Starlette application, :func:`run_api` serves it (the body of
``procmon api``), and :data:`schema` is the Strawberry schema of the default settings
(exported to ``schema.graphql``; an app serves ``graphql_api.schema.build_schema`` of its own).
This package reads PostgreSQL only; it never imports ``streams``.
"""

from __future__ import annotations

from graphql_api.app import create_app, run_api
from graphql_api.schema import schema

__all__ = ["create_app", "run_api", "schema"]
