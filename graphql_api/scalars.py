"""The API's own scalar: ``BigInt``, for byte counts beyond GraphQL's 32-bit Int."""

from __future__ import annotations

from typing import NewType

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

__all__ = ["BIGINT_SCALAR", "BigInt"]

_INT64 = 2**63


def _parse_bigint(value: object) -> int:
    """A client's BigInt: a JSON integer that a signed 64-bit column holds."""
    if type(value) is not int or not -_INT64 <= value < _INT64:
        # A GraphQLError: its message describes the request, so the client may read it.
        raise GraphQLError(f"BigInt must be an integer within a signed 64-bit range, got {value!r}")
    return value


# GraphQL's Int is 32-bit, and a process's memory in bytes often exceeds 2^31 - 1.
BigInt = NewType("BigInt", int)

BIGINT_SCALAR: ScalarDefinition = strawberry.scalar(
    name="BigInt",
    description=(
        "A signed 64-bit integer, serialized as a JSON number. "
        "JavaScript numbers hold it exactly up to 2^53 - 1 (8 PiB in bytes)."
    ),
    serialize=int,
    parse_value=_parse_bigint,
)
