"""Executing a request with its plain leaf fields completed in one step.

A page of 20 lifetimes selects some 220 fields, nearly all of them a scalar or an enum read off
an attribute (strawberry's "basic" fields: no resolver, no arguments, no extension). graphql-core
executes each one in full: it builds a resolve info, wraps the resolver, and completes the
value through the generic completion of any type (2 to 2.5 ms of an uncached page of
lifetimes, measured against this module). :class:`LeafFieldsExecutionContext` reads such a
field's attribute and coerces it with its type's own output coercion, which is what the full
path comes to for them. Whatever is not plainly such a field, or fails on the way (a null for
a non-null field, a value the type refuses), goes the full path, which then reports it as it
always would: the answer, errors included, is the same.

A list of objects whose selection is only such fields (the groups of a ``processStats``, a
page's nodes) is completed the same way in one loop, without graphql-core's completion of
each item (a path, the object's type check, its collected fields): of the API's time on the
30-day fleet-wide ``processStats`` (2,884 groups of 13 fields), that completion took 45%
against 17% for the fields themselves. A list with anything else (a null item, a value only
the full path may decide, a deferred or streamed part) goes the full path whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from math import isfinite
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

__all__ = ["LeafFieldsExecutionContext"]

_INT_RANGE = range(GRAPHQL_MIN_INT, GRAPHQL_MAX_INT + 1)
_Coercion = Callable[[Any], Any]


def _output_coercion(leaf: GraphQLScalarType | GraphQLEnumType) -> _Coercion:
    """The type's output coercion, answering first for the value it is commonly given: one of
    the type's own Python type, which that coercion returns as it is, or a member of a
    strawberry enum, by the name that coercion gives it. Anything else goes to the coercion,
    which tries one Python type after another (and a strawberry enum each member in turn)."""
    coerce = leaf.coerce_output_value
    if leaf is GraphQLFloat:

        def coerce_float(value: Any) -> Any:
            return value if type(value) is float and isfinite(value) else coerce(value)

        return coerce_float
    if leaf is GraphQLInt:

        def coerce_int(value: Any) -> Any:
            return value if type(value) is int and value in _INT_RANGE else coerce(value)

        return coerce_int
    if leaf is GraphQLString or leaf is GraphQLBoolean:
        own = str if leaf is GraphQLString else bool

        def coerce_own(value: Any) -> Any:
            return value if type(value) is own else coerce(value)

        return coerce_own
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(members, type) or not issubclass(members, Enum):
        return coerce
    names = {member: coerce(member) for member in members}

    def coerce_member(value: Any) -> Any:
        return names[value] if type(value) is members else coerce(value)

    return coerce_member


class _Leaf:
    """How one plain leaf field is read: the attribute its resolver reads (None where the
    schema's default resolver is not ``getattr``) and its scalar's or enum's output coercion."""

    __slots__ = ("attribute", "coerce", "nullable", "resolve")

    def __init__(
        self, field: GraphQLField, leaf: GraphQLScalarType | GraphQLEnumType, *, nullable: bool
    ) -> None:
        self.nullable = nullable
        self.coerce: _Coercion = _output_coercion(leaf)
        self.resolve: Callable[..., Any] = field.resolve  # type: ignore[assignment]
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        self.attribute: str | None = None
        if definition is not None and definition.default_resolver is getattr:
            self.attribute = definition.python_name


def _leaf_of(field: GraphQLField | None) -> _Leaf | None:
    """The field's plain read, or None when it is not a plain leaf field."""
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    field_type = field.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type if nullable else field_type.of_type  # type: ignore[union-attr]
    if not isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        return None
    return _Leaf(field, inner, nullable=nullable)


# Per object type (the schemas are built once and live as long as the process), per field name.
_LEAVES: dict[GraphQLObjectType, dict[str, _Leaf | None]] = {}


class LeafFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, completing plain leaf fields in one step (see the
    module's docstring)."""

    def _plain(self) -> bool:
        # A middleware wraps every resolver, plain ones too: only the full path calls it.
        middleware = self.middleware_manager
        return middleware is None or not middleware.middlewares

    def _leaf(self, parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
        """The plain read of ``parent_type``'s field ``name``, or None."""
        leaves = _LEAVES.setdefault(parent_type, {})
        if name in leaves:
            return leaves[name]
        leaf = leaves[name] = _leaf_of(self.schema.get_field(parent_type, name))
        return leaf

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """Complete the plain leaf fields here and the others as graphql-core does."""
        if not self._plain():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        completed: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = self._leaf(parent_type, field_details_list[0].node.name.value)
            if leaf is not None:
                value = _complete(leaf, source_value)
                if value is not Undefined:
                    completed[response_name] = value
                    continue
            rest[response_name] = field_details_list
        if not rest:
            return completed
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _in_order(grouped_field_set, completed, await others)

            return merged()
        return _in_order(grouped_field_set, completed, others)  # type: ignore[arg-type]

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """Complete a list of objects of plain leaf fields in one loop, others as graphql-core
        does (see the module's docstring)."""
        completed = self._leaf_objects(item_type, field_details_list, path, items, position_context)
        if completed is not None:
            return completed
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _leaf_objects(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> list[dict[str, Any]] | None:
        """The completed items, or None where the full path must complete the list."""
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (
            not isinstance(items, list | tuple)
            or not isinstance(object_type, GraphQLObjectType)
            or object_type.is_type_of is not None
            or position_context is not None
            or not self._plain()
            or self.get_stream_usage(field_details_list, path) is not None
        ):
            return None
        grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        leaves: list[tuple[str, _Leaf]] = []
        for response_name, details in grouped_field_set.items():
            leaf = self._leaf(object_type, details[0].node.name.value)
            if leaf is None:
                return None
            leaves.append((response_name, leaf))
        completed: list[dict[str, Any]] = []
        for item in items:
            if item is None or self.is_awaitable(item):
                return None
            row: dict[str, Any] = {}
            for response_name, leaf in leaves:
                value = _complete(leaf, item)
                if value is Undefined:
                    return None
                row[response_name] = value
            completed.append(row)
        return completed


def _complete(leaf: _Leaf, source: Any) -> Any:
    """The field's completed value, or Undefined where the full path must decide."""
    # getattr itself rather than strawberry's three calls that come to it.
    attribute = leaf.attribute
    value = getattr(source, attribute) if attribute is not None else leaf.resolve(source, None)
    if value is None:
        return None if leaf.nullable else Undefined
    if isinstance(value, Exception):
        return Undefined
    try:
        coerced = leaf.coerce(value)
    except Exception:  # the full path coerces again and reports it, located, as a field error
        return Undefined
    return Undefined if coerced is None else coerced


def _in_order(
    grouped_field_set: GroupedFieldSet, completed: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """The fields' values in the order the request selected them (the answer's key order)."""
    if not completed:
        return others
    return {
        name: completed[name] if name in completed else others[name]
        for name in grouped_field_set
        if name in completed or name in others
    }
