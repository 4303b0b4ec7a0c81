"""The GraphiQL page of ``/graphql``, with its scripts and styles served by the API itself.

The assets are vendored under graphql_api/static (see SOURCES.md there), so the page works
without internet access. A key in the page's fragment (``/graphql#key=...``, as ``procmon up``
prints it) fills the Authorization header in; a fragment never reaches the server or its logs.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

__all__ = ["ASSET_ROUTE", "EXAMPLE_QUERY", "asset", "ide_page"]

STATIC = Path(__file__).parent / "static"

# Only these files are served: the folder also holds licenses and the refresh script.
_ASSETS = {
    "graphiql.min.css": "text/css",
    "graphiql.min.js": "text/javascript",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
}

ASSET_ROUTE = "/graphiql/{name}"

EXAMPLE_QUERY = """\
# procmon's research API. Every request needs an API key: the Headers tab below holds
#   {"Authorization": "Bearer <key>"}
# The link `procmon up` prints (/graphql#key=...) fills it in; `procmon apikey create` makes
# keys. Run this query with Ctrl-Enter or the play button; the Docs button lists every field.
{
  machines {
    machineId
    machineName
    osType
    labels
    lastSeen
    snapshotCount
  }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>procmon GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
<script>
const fragment = new URLSearchParams(window.location.hash.slice(1));
const key = fragment.get("key") || "<your API key>";
const headers = JSON.stringify({Authorization: "Bearer " + key}, null, 2);
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({url: window.location.pathname}),
    defaultQuery: __EXAMPLE__,
    headers: headers,
    defaultEditorToolsVisibility: "headers",
  }),
);
</script>
</body>
</html>
"""


def ide_page() -> HTMLResponse:
    """The GraphiQL page: the example query, the Headers tab open with the key's header."""
    # "</" inside a script would end it early; JSON allows the escaped form.
    example = json.dumps(EXAMPLE_QUERY).replace("</", "<\\/")
    return HTMLResponse(_PAGE.replace("__EXAMPLE__", example))


async def asset(request: Request) -> Response:
    """One of the page's vendored scripts or styles (no key needed: they are public code)."""
    name = request.path_params["name"]
    media_type = _ASSETS.get(name)
    if media_type is None:
        return PlainTextResponse(f"no GraphiQL asset {name!r}", status_code=404)
    return FileResponse(
        STATIC / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
