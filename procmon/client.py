"""A client of the research API for notebooks and scripts, built on ``gql``.

``AsyncClient`` is the core; ``Client`` is the same with blocking calls, for notebooks and
scripts (Jupyter already runs an event loop, so the blocking client does not start one)::

    from procmon.client import Client

    api = Client("http://127.0.0.1:8000/graphql", token="pmk_...")
    api.query("{ machines { machineName osType } }")
    frame = api.processes({"processName": {"like": "python%"}}, from_="2026-11-28T00:00:00Z")
    busiest = api.process_lifetimes(from_="2026-11-27T00:00:00Z", to="2026-11-28T00:00:00Z",
                                    limit=20)  # by CPU seconds used in the range
    one = api.process_history(busiest["processKey"][0])  # its rows, intervalCpuPercent...
    everything = api.export({"machineId": {"equalTo": "web-1"}})  # millions of rows: Parquet

Errors the API returns (a bad query, a missing key) raise :class:`procmon.errors.ApiError`
with the API's own message.
"""

from __future__ import annotations

import io
import itertools
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

from procmon.client_frames import _TIME_COLUMNS as _TIME_COLUMNS  # the frame's times, re-exported
from procmon.client_frames import (
    DEFAULT_PAGE,
    LIFETIME_COLUMNS,
    LIFETIMES_QUERY,
    PROCESS_COLUMNS,
    PROCESS_HISTORY_QUERY,
    PROCESSES_QUERY,
    frame,
    given,
    lifetime_frame,
    lifetime_variables,
    process_variables,
)
from procmon.errors import ApiError, ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "API_KEY_VARIABLE",
    "API_URL_VARIABLE",
    "LIFETIMES_QUERY",
    "LIFETIME_COLUMNS",
    "PROCESSES_QUERY",
    "PROCESS_COLUMNS",
    "PROCESS_HISTORY_QUERY",
    "AsyncClient",
    "Client",
]

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
        page_size: int = DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """Every process the filter selects in [from, to), as a DataFrame."""
        variables = process_variables(filter, from_, to, order_by, page_size)
        nodes = [node async for node in self.paginate(PROCESSES_QUERY, "processes", **variables)]
        return frame(nodes)

    async def process_history(
        self,
        process_key: str | int,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        page_size: int = DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """The rows of one process (its ``processKey``) in [from, to), oldest first, as a
        DataFrame of the columns of :meth:`processes`."""
        variables = given(key=str(process_key), **{"from": from_}, to=to, first=page_size)
        pages = self.paginate(PROCESS_HISTORY_QUERY, "processHistory", **variables)
        return frame([node async for node in pages])

    async def process_lifetimes(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None,
        to: datetime | str | None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One row per process seen in [from, to) that the LifetimeFilter selects, by CPU
        seconds unless ``order_by`` (a LifetimeOrderBy) says otherwise; the first ``limit``
        (default: every one)."""
        variables = lifetime_variables(filter, from_, to, order_by, limit)
        nodes: list[dict[str, Any]] = []
        async for node in self.paginate(LIFETIMES_QUERY, "processLifetimes", **variables):
            nodes.append(node)
            if len(nodes) == limit:
                break
        return lifetime_frame(nodes, limit)

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
        page_size: int = DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """Every process the filter selects in [from, to), as a DataFrame."""
        variables = process_variables(filter, from_, to, order_by, page_size)
        return frame(list(self.paginate(PROCESSES_QUERY, "processes", **variables)))

    def process_history(
        self,
        process_key: str | int,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        page_size: int = DEFAULT_PAGE,
    ) -> pd.DataFrame:
        """The rows of one process over time: see :meth:`AsyncClient.process_history`."""
        variables = given(key=str(process_key), **{"from": from_}, to=to, first=page_size)
        return frame(list(self.paginate(PROCESS_HISTORY_QUERY, "processHistory", **variables)))

    def process_lifetimes(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        from_: datetime | str | None,
        to: datetime | str | None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One row per process seen in [from, to): see :meth:`AsyncClient.process_lifetimes`."""
        variables = lifetime_variables(filter, from_, to, order_by, limit)
        pages = self.paginate(LIFETIMES_QUERY, "processLifetimes", **variables)
        return lifetime_frame(list(itertools.islice(pages, limit)), limit)

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
