"""Plain leaf fields completed in one step give the answer graphql-core's full path gives:
the same data in the same order, the same errors at the same paths."""

from __future__ import annotations

import asyncio
import enum
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import strawberry
from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.execution import LeafFieldsExecutionContext


@strawberry.enum
class Kind(enum.Enum):
    """An enum, completed by its own output coercion like a scalar."""

    PLAIN = "plain"
    ODD = "odd"


@strawberry.type
class Item:
    """Fields of every kind the fast path meets: plain leaves, refused values, resolvers."""

    number: int
    name: str
    note: str | None
    at: datetime
    # Declared non-null and float, but some items hold what the full path must refuse.
    required: str
    ratio: float
    kind: Kind

    @strawberry.field
    async def doubled(self) -> int:
        """A resolver: always the full path."""
        await asyncio.sleep(0)
        return 2 * self.number


def _item(
    number: int, *, note: str | None, required: object, ratio: object, kind: object = Kind.PLAIN
) -> Item:
    # required, ratio and kind take what their declared types refuse: the full path must
    # catch it.
    return Item(
        number=number,
        name="abc"[number - 1],
        note=note,
        at=datetime(2026, 1, number, tzinfo=UTC),
        required=required,  # type: ignore[arg-type]
        ratio=ratio,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
    )


_ITEMS = [
    _item(1, note=None, required="x", ratio=0.5),
    _item(2, note="n", required=None, ratio=1.0),
    _item(3, note=None, required="z", ratio="no", kind="not a kind"),
]


def _edge(number: object, name: object, ratio: object) -> Item:
    return Item(
        number=number,  # type: ignore[arg-type]
        name=name,  # type: ignore[arg-type]
        note=None,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        required="r",
        ratio=ratio,  # type: ignore[arg-type]
        kind=Kind.ODD,
    )


# An Int as a bool or a whole float, a String as an int or a bool, a Float as an int or a bool;
# then what each refuses: an Int past 32 bits, a Float that is not finite.
_EDGES = [
    _edge(True, 7, 2),
    _edge(3.0, False, True),
    _edge(2**31, "s", float("nan")),
    _edge(-(2**31), "t", float("inf")),
]


@strawberry.type
class Query:
    """Items whose some fields fail, under a nullable list so the rest still answer."""

    @strawberry.field
    def items(self) -> list[Item | None]:
        """Every item."""
        return list(_ITEMS)

    @strawberry.field
    def first(self) -> Item:
        """The first item."""
        return _ITEMS[0]

    @strawberry.field
    def gaps(self) -> list[Item | None]:
        """Items with a null among them."""
        return [_ITEMS[0], None, _ITEMS[1]]

    @strawberry.field
    def edges(self) -> list[Item | None]:
        """Items whose plain fields hold values their types take only after converting them,
        or refuse: not the Python type the field declares."""
        return list(_EDGES)

    @strawberry.field
    def good(self) -> list[Item]:
        """Items whose plain fields all answer, twice over."""
        return [_ITEMS[0], _ITEMS[1], _ITEMS[0]]


class _CountingResolves(SchemaExtension):
    """A middleware: counts every field it is asked to resolve."""

    calls = 0

    def resolve(
        self, _next: Any, root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        """Count, then resolve as usual."""
        type(self).calls += 1
        return _next(root, info, *args, **kwargs)


class _FullPathCounted(LeafFieldsExecutionContext):
    """The fast path, counting the fields that still went graphql-core's full path."""

    full_path: ClassVar[list[str]] = []

    def execute_field(
        self, parent_type: Any, source: Any, field_details_list: Any, *rest: Any
    ) -> Any:
        """Note the field, then execute it in full."""
        type(self).full_path.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
        return super().execute_field(parent_type, source, field_details_list, *rest)


def _schema(
    context: type[StrawberryGraphQLCoreExecutionContext], **options: Any
) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=context, **options)


_QUERIES = [
    "{ items { number name note at } first { name } }",
    "{ items { at name number note } }",
    # Aliases, a repeated field, __typename, a fragment, a resolver between leaves.
    "{ items { n: number ...F doubled m: number __typename } } fragment F on Item { name note }",
    # A null for a non-null field: the item is null, the error at its path.
    "{ items { number required } }",
    # A value Float refuses: the same.
    "{ items { ratio name } }",
    # At the root's non-null field: the whole answer is null.
    "{ first { required number } items { number } }",
    # Lists of plain leaves only, completed in one loop: aliases, a repeated field, a
    # fragment, a skipped field; a null item; a list of non-null items.
    "{ good { b: name number ...G n: number note @skip(if: true) at } }"
    " fragment G on Item { note }",
    "{ gaps { number name } good { at } }",
    "{ good { number __typename } }",
    # An enum: its members answer, a value not among them is refused at its path.
    "{ good { kind number } }",
    "{ items { number kind } }",
    # Values converted or refused by their type's own coercion, beside ones taken as they are.
    "{ edges { number name ratio kind } }",
    "{ edges { name kind } }",
]


@pytest.mark.parametrize("query", _QUERIES)
async def test_the_answer_is_the_full_paths(query: str) -> None:
    full = await _schema(StrawberryGraphQLCoreExecutionContext).execute(query)
    quick = await _schema(LeafFieldsExecutionContext).execute(query)
    assert quick.data == full.data
    assert _order(quick.data) == _order(full.data)
    # As sent: True and 1, 2 and 2.0 are equal in Python, not in the JSON a client reads.
    assert json.dumps(quick.data) == json.dumps(full.data)
    assert [(e.message, e.path) for e in quick.errors or []] == [
        (e.message, e.path) for e in full.errors or []
    ]


def _order(value: Any) -> Any:
    """The keys of every object in the answer, in order."""
    if isinstance(value, dict):
        return [(key, _order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_order(item) for item in value]
    return None


async def test_plain_leaves_skip_the_full_path() -> None:
    _FullPathCounted.full_path = []
    result = await _schema(_FullPathCounted).execute("{ items { number name doubled ratio } }")
    assert result.data is not None
    # Of the items' fields only the resolver and the refused ratio of the third went in full.
    assert sorted(_FullPathCounted.full_path) == [
        "Item.doubled",
        "Item.doubled",
        "Item.doubled",
        "Item.ratio",
        "Query.items",
    ]


class _ObjectsCompleted(LeafFieldsExecutionContext):
    """The fast path, counting the objects graphql-core completed one by one."""

    objects: ClassVar[list[str]] = []

    def complete_object_value(self, return_type: Any, *rest: Any) -> Any:
        """Note the object's type, then complete it in full."""
        type(self).objects.append(return_type.name)
        return super().complete_object_value(return_type, *rest)


@pytest.mark.parametrize(
    ("query", "one_by_one"),
    [
        # Only plain leaves: the list is completed in one loop.
        ("{ good { number name note at } }", []),
        ("{ items { number name note at } }", []),
        # A resolver, a null item, a value only the full path may refuse: item by item.
        ("{ good { number doubled } }", ["Item"] * 3),
        ("{ gaps { number } }", ["Item"] * 2),
        ("{ items { ratio } }", ["Item"] * 3),
        ("{ good { kind } }", []),
        ("{ items { kind } }", ["Item"] * 3),
    ],
)
async def test_lists_of_plain_leaves_skip_completing_each_item(
    query: str, one_by_one: list[str]
) -> None:
    _ObjectsCompleted.objects = []
    result = await _schema(_ObjectsCompleted).execute(query)
    assert result.data is not None
    assert _ObjectsCompleted.objects == one_by_one


async def test_a_middleware_sees_every_field_as_before() -> None:
    counts = []
    for context in (StrawberryGraphQLCoreExecutionContext, LeafFieldsExecutionContext):
        _CountingResolves.calls = 0
        result = await _schema(context, extensions=[_CountingResolves]).execute(
            "{ items { number name note } }"
        )
        assert result.errors is None
        counts.append(_CountingResolves.calls)
    assert counts[0] == counts[1] == 1 + 3 * 3
