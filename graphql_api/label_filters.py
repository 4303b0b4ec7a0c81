"""Compiling the ``labels`` conditions of the process and snapshot filters into SQL on the
snapshot's ``labels`` (``c.labels``, a jsonb object of strings).

Each operator is one that ``commands_labels_idx`` (GIN, jsonb_ops) serves: containment (``@>``)
for a value and for one of several, key existence (``?``) for a label that exists. Values are
parameters, as everywhere in :mod:`graphql_api.filters`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from psycopg import sql as psql
from psycopg.types.json import Jsonb

from graphql_api.arguments import text
from graphql_api.errors import UserInputError
from graphql_api.filter_inputs import LabelCondition
from procmon.labels import check_label_name

__all__ = ["check_label", "label_conditions"]

# A parameter standing for a value (graphql_api.filters.QueryParams.add).
AddParameter = Callable[[object], psql.Placeholder]

_LABELS = psql.Identifier("c", "labels")


def check_label(where: str, name: str) -> str:
    """``name`` if it can be a label's name; else a UserInputError saying what one is."""
    try:
        return check_label_name(name)
    except ValueError as exc:
        raise UserInputError(f"{where}: {exc}") from exc


def _holding(name: str, values: Sequence[str], where: str) -> list[Jsonb]:
    """The objects a snapshot's labels contain when ``name`` has one of ``values``."""
    return [Jsonb({name: text(where, "a label's value", value)}) for value in values]


def label_conditions(
    path: str,
    conditions: Sequence[LabelCondition],
    add: AddParameter,
    max_list: int,
    *,
    column: psql.Identifier = _LABELS,
) -> list[psql.Composable]:
    """The SQL of each condition of the filter field ``path`` (every one must hold), on the
    labels ``column`` (the snapshot's, unless a rollup's)."""
    parts: list[psql.Composable] = []
    for index, condition in enumerate(conditions):
        where = f"{path}[{index}]"
        name = check_label(f"{where}.name", condition.name)
        given = 0
        if condition.equal_to is not None:
            (contained,) = _holding(name, [condition.equal_to], f"{where}.equalTo")
            parts.append(psql.SQL("{} @> {}").format(column, add(contained)))
            given += 1
        if condition.in_ is not None:
            if len(condition.in_) > max_list:
                raise UserInputError(
                    f"{where}.in: at most {max_list} values, got {len(condition.in_)}"
                )
            any_of = _holding(name, condition.in_, f"{where}.in")
            in_any = psql.SQL("{} @> ANY({}::jsonb[])").format(column, add(any_of))
            # In nothing: no snapshot.
            parts.append(in_any if any_of else psql.SQL("FALSE"))
            given += 1
        if condition.exists is not None:
            exists = psql.SQL("{} ? {}").format(column, add(name))
            parts.append(exists if condition.exists else psql.SQL("NOT {}").format(exists))
            given += 1
        if not given:
            raise UserInputError(f"{where}: give equalTo, in or exists")
    return parts
