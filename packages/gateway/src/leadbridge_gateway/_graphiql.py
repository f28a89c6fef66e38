"""GraphiQL, served with its assets by the gateway itself: it works offline, never hits a CDN.

The assets are the UMD builds of graphiql 3.8.3, react 18.2.0 and react-dom 18.2.0 from the npm
registry (``npm pack``), their licenses alongside; the two large ones are stored gzipped.
"""

from __future__ import annotations

import gzip
import html
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

ASSETS = {
    "graphiql.min.js": "application/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "application/javascript",
    "react-dom.production.min.js": "application/javascript",
    "LICENSE.graphiql": "text/plain",
    "LICENSE.react": "text/plain",
    "LICENSE.react-dom": "text/plain",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>LeadBridge GraphiQL</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{base}graphiql.min.css">
  <script src="{base}react.production.min.js"></script>
  <script src="{base}react-dom.production.min.js"></script>
  <script src="{base}graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script>
    const url = window.location.href.split("?")[0];
    const ws = new URL(url);
    ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
    const fetcher = GraphiQL.createFetcher({{ url: url, subscriptionUrl: ws.toString() }});
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {{
      fetcher: fetcher,
      defaultHeaders: JSON.stringify({{ Authorization: "Bearer lbt_…" }}, null, 2),
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers",
      defaultQuery: "{{\\n  contacts(first: 10) {{\\n    totalCount\\n"
        + "    nodes {{ id email tags }}\\n  }}\\n}}\\n",
    }}));
  </script>
</body>
</html>
"""


def graphiql_page(static_base: str) -> HTMLResponse:
    base = html.escape(static_base if static_base.endswith("/") else static_base + "/")
    return HTMLResponse(_PAGE.format(base=base))


@cache
def _asset(name: str) -> tuple[bytes, bool]:
    """The asset's bytes and whether they are gzipped."""
    folder = files("leadbridge_gateway") / "_static"
    plain = folder / name
    if plain.is_file():
        return plain.read_bytes(), False
    return (folder / f"{name}.gz").read_bytes(), True


async def static_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return JSONResponse({"error": f"no asset {name!r}"}, status_code=404)
    body, gzipped = _asset(name)
    headers = {"cache-control": "public, max-age=86400"}
    if gzipped:
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["content-encoding"] = "gzip"
        else:
            body = gzip.decompress(body)
        headers["vary"] = "Accept-Encoding"
    return Response(body, media_type=media_type, headers=headers)
