"""procmon: process listings of a fleet of machines, stored in PostgreSQL, queried via GraphQL.

This shared package holds what the worker (``streams``) and the API (``graphql_api``) both
need: the settings, the message envelope, the error tree, database set-up, the collector,
the command line and the dev stack.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
