"""The errors of the API, and which errors a client may read.

A client sees the message of a :class:`UserInputError` (raised on purpose about its input)
and graphql-core's own request errors (syntax, validation, argument coercion), which only
describe the request. Anything else failing while resolving, such as a lost database, is an
internal error: the client gets a generic message and the server log gets the traceback.
"""

from __future__ import annotations

from graphql import GraphQLError

from procmon.errors import ProcmonError

__all__ = ["UserInputError", "is_internal_error"]


class UserInputError(ProcmonError):
    """The request's arguments cannot be answered; the message is shown to the client."""


def is_internal_error(error: GraphQLError) -> bool:
    """Tell whether ``error`` comes from a failure of the server rather than from the request."""
    original = error.original_error
    return original is not None and not isinstance(original, (UserInputError, GraphQLError))
