"""A client of the research API for notebooks and scripts, built on ``gql``.

``AsyncClient`` is the core; ``Client`` is the same with blocking calls, for notebooks and
scripts (Jupyter already runs an event loop, so the blocking client does not start one)::

    from procmon.client import Client

    api = Client("http://127.0.0.1:8000/graphql", token="pmk_...")
    api.query("{ machines { machineName osType } }")
    frame = api.processes({"processName": {"like": "python%"}}, from_="2026-11-28T00:00:00Z")
    everything = api.export({"machineId": {"equalTo": "web-1"}})  # millions of rows: Parquet

Errors the API returns (a bad query, a missing key) raise :class:`procmon.errors.ApiError`
with the API's own message.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from gql import Client as GqlClient
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport

from procmon.columns import FRAME_COLUMNS
from procmon.errors import ApiError, ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "API_KEY_VARIABLE",
    "API_URL_VARIABLE",
    "PROCESSES_QUERY",
    "PROCESS_COLUMNS",
    "AsyncClient",
    "Client",
]

# The fields of a Process a DataFrame holds (procmon.columns' frame columns), in its order.
PROCESS_COLUMNS = tuple(column.graphql_name for column in FRAME_COLUMNS)
_TIME_COLUMNS = tuple(column.graphql_name for column in FRAME_COLUMNS if column.is_time)

PROCESSES_QUERY = f"""
query Processes($filter: ProcessFilter, $from: DateTime, $to: DateTime,
                $orderBy: ProcessOrderBy, $first: Int, $after: String) {{
  processes(filter: $filter, from: $from, to: $to, orderBy: $orderBy, first: $first,
            after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {" ".join(PROCESS_COLUMNS)} }}
  }}
}}"""

_DEFAULT_PAGE = 1000

API_URL_VARIABLE = "PROCMON_API_URL"
API_KEY_VARIABLE = "PROCMON_API_KEY"


def _headers(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def _request(document: str, variables: Mapping[str, Any]) -> GraphQLRequest:
    values = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in variables.items()}
    return GraphQLRequest(document, variable_values=values)


def _api_error(exc: Exception) -> ApiError:
    """The API's own message out of a gql transport error."""
    if isinstance(exc, TransportQueryError) and exc.errors:
        return ApiError("; ".join(str(error.get("message", error)) for error in exc.errors))
    if isinstance(exc, TransportServerError):
        return ApiError(f"the API answered HTTP {exc.code}: {exc}")
    return ApiError(str(exc))


def _page(data: Mapping[str, Any], path: str) -> tuple[list[dict[str, Any]], str | None]:
    """The nodes of the connection at ``path`` (dotted), and the cursor of the next page."""
    connection: Any = data
    for part in path.split("."):
        connection = connection[part]
    info = connection["pageInfo"]
    return list(connection["nodes"]), info["endCursor"] if info["hasNextPage"] else None


def _process_variables(
    filter: Mapping[str, Any] | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    order_by: str | None,
    page_size: int,
) -> dict[str, Any]:
    given = {"filter": filter, "from": from_, "to": to, "orderBy": order_by, "first": page_size}
    # Left out rather than null, so that the API's defaults (the order above all) apply.
    return {name: value for name, value in given.items() if value is not None}


def _export_request(
    graphql_url: str,
    filter: Mapping[str, Any] | None,
    from_: datetime | str | None,
    to: datetime | str | None,
) -> tuple[str, dict[str, str]]:
    """The URL of ``/export/processes`` beside ``/graphql``, and its Parquet query parameters."""
    base = graphql_url.rstrip("/").removesuffix("/graphql")
    params = {"format": "parquet"}
    if filter is not None:
        params["filter"] = json.dumps(filter)
    for name, value in (("from", from_), ("to", to)):
        if value is not None:
            params[name] = value.isoformat() if isinstance(value, datetime) else value
    return f"{base}/export/processes", params


def _export_cut(exc: Exception) -> ApiError:
    """The error of an export whose response ended before its end (the API cuts an export
    that fails once streaming; its log says why)."""
    return ApiError(f"the export was cut short, not every row arrived: {exc}")


def _export_frame(response: httpx.Response) -> pd.DataFrame:
    """The export's Parquet file as a DataFrame, or the API's complaint as an ApiError."""
    if response.status_code != 200:
        try:
            message = "; ".join(e["message"] for e in response.json()["errors"])
        except (ValueError, KeyError, TypeError):
            message = response.text
        raise ApiError(f"the API answered HTTP {response.status_code}: {message}")
    import pandas as pd
    import pyarrow as pa

    try:
        return pd.read_parquet(io.BytesIO(response.content))
    except pa.ArrowInvalid as exc:
        # A body that is not a whole Parquet file: only an export cut short gives one.
        raise _export_cut(exc) from exc


def _frame(nodes: list[dict[str, Any]]) -> pd.DataFrame:
    """Processes as a DataFrame: one row each, times as UTC timestamps."""
    import pandas as pd

    frame = pd.DataFrame.from_records(nodes, columns=list(PROCESS_COLUMNS))
    for column in _TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


class AsyncClient:
    """The research API from asyncio code: ``await client.query(...)``."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self._url, self._headers, self._timeout = url, _headers(token), timeout
        transport = HTTPXAsyncTransport(url, headers=self._headers, timeout=timeout)
        self._client = GqlClient(transport=transport, execute_timeout=timeout)

    async def query(self, document: str, **variables: Any) -> dict[str, Any]:
        """Run a query with its variables and return its ``data``."""
        try:
            async with self._client as session:
                result: dict[str, Any] = await session.execute(_request(document, variables))
        except (TransportQueryError, TransportServerError) as exc:
            raise _api_error(exc) from exc
        return result

    async def paginate(
        self, document: str, path: str, **variables: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Every node of the connection at ``path``, following ``endCursor`` page by page.

        ``document`` takes ``$after: String`` and selects ``pageInfo { hasNextPage endCursor }``
        and ``nodes`` at ``path`` (dotted, e.g. ``snapshot.processes``).
        """
        after: str | None = None
        while True:
            nodes, after = _page(await self.query(document, **variables, after=after), path)
            for node in nodes:
                yield node
            if after is None:
                return

    async def processes(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        order_by: str | None = None,
        page_size: int = _DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """Every process the filter selects in [from, to), as a DataFrame."""
        variables = _process_variables(filter, from_, to, order_by, page_size)
        nodes = [node async for node in self.paginate(PROCESSES_QUERY, "processes", **variables)]
        return _frame(nodes)

    async def export(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> pd.DataFrame:
        """Every process the filter selects, through ``/export/processes`` as Parquet.

        For pulls too large to page through GraphQL: one request, typed columns named as the
        export names them (``snapshot_id``, ``line_number``, ``process_name``...), in snapshot
        and listing order.
        """
        url, params = _export_request(self._url, filter, from_, to)
        async with httpx.AsyncClient(headers=self._headers, timeout=self._timeout) as http:
            try:
                response = await http.get(url, params=params)
            except httpx.RemoteProtocolError as exc:
                raise _export_cut(exc) from exc
        return _export_frame(response)


class Client:
    """The research API with blocking calls, for notebooks and scripts."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self._url, self._headers, self._timeout = url, _headers(token), timeout
        transport = HTTPXTransport(url, headers=self._headers, timeout=timeout)
        self._client = GqlClient(transport=transport, execute_timeout=timeout)

    @classmethod
    def from_env(cls, timeout: float = 60.0) -> Client:
        """A client of the API named by PROCMON_API_URL, with the key in PROCMON_API_KEY.

        The one place outside :mod:`procmon.settings` that reads the environment, on purpose:
        the client is a library imported into notebooks, which have no procmon Settings of
        their own, and two documented variables keep the key out of the notebook's text.
        Raises ConfigurationError naming every variable that is missing or empty.
        """
        values = {
            name: os.environ.get(name, "").strip() for name in (API_URL_VARIABLE, API_KEY_VARIABLE)
        }
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ConfigurationError(
                f"set {' and '.join(missing)} (the API's /graphql address and an API key "
                "from `procmon apikey create`) before Client.from_env()"
            )
        return cls(values[API_URL_VARIABLE], token=values[API_KEY_VARIABLE], timeout=timeout)

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        """Run a query with its variables and return its ``data``."""
        try:
            with self._client as session:
                result: dict[str, Any] = session.execute(_request(document, variables))
        except (TransportQueryError, TransportServerError) as exc:
            raise _api_error(exc) from exc
        return result

    def paginate(self, document: str, path: str, **variables: Any) -> Iterator[dict[str, Any]]:
        """Every node of the connection at ``path``, as :meth:`AsyncClient.paginate`."""
        after: str | None = None
        while True:
            nodes, after = _page(self.query(document, **variables, after=after), path)
            yield from nodes
            if after is None:
                return

    def processes(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        order_by: str | None = None,
        page_size: int = _DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """Every process the filter selects in [from, to), as a DataFrame."""
        variables = _process_variables(filter, from_, to, order_by, page_size)
        return _frame(list(self.paginate(PROCESSES_QUERY, "processes", **variables)))

    def export(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> pd.DataFrame:
        """Every process the filter selects, as Parquet: see :meth:`AsyncClient.export`."""
        url, params = _export_request(self._url, filter, from_, to)
        with httpx.Client(headers=self._headers, timeout=self._timeout) as http:
            try:
                response = http.get(url, params=params)
            except httpx.RemoteProtocolError as exc:
                raise _export_cut(exc) from exc
        return _export_frame(response)
