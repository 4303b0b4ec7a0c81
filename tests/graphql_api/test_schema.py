"""The served schema's descriptions quote the page sizes of the settings in force."""

from __future__ import annotations

from tests.graphql_api.conftest import Serve, post

QUERY_FIELDS = '{ __type(name: "Query") { fields { name description } } }'


async def _descriptions(serve: Serve, database_url: str, **settings: int) -> dict[str, str]:
    async with serve(database_url, **settings) as client:
        body = await post(client, QUERY_FIELDS)
    return {field["name"]: field["description"] for field in body["data"]["__type"]["fields"]}


# One app per test: the response cache does not tell apart apps of other page sizes sharing
# a Redis prefix (its key is the query, variables, operation and role).
async def test_descriptions_quote_the_page_sizes_in_force(serve: Serve, database_url: str) -> None:
    small = await _descriptions(serve, database_url, api_page_size=50, api_max_page_size=500)
    assert "pages of `first` (default 50, at most 500)" in small["snapshots"]


async def test_default_descriptions_quote_the_default_page_sizes(
    serve: Serve, database_url: str
) -> None:
    default = await _descriptions(serve, database_url)
    assert "pages of `first` (default 100, at most 1000)" in default["snapshots"]


async def test_the_quoted_maximum_is_the_one_enforced(serve: Serve, database_url: str) -> None:
    async with serve(database_url, api_page_size=50, api_max_page_size=500) as client:
        body = await post(client, "{ snapshots(first: 501) { totalCount } }")
    assert body["data"] is None
    assert "first must be between 1 and 500, got 501" in body["errors"][0]["message"]
