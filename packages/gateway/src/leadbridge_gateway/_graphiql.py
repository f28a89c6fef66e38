"""GraphiQL, served with its assets by the gateway itself: it works offline, never hits a CDN.

The assets are the UMD builds of graphiql 3.8.3, react 18.2.0 and react-dom 18.2.0 from the npm
registry (``npm pack``), their licenses alongside; the two large ones are stored gzipped.
"""

from __future__ import annotations

import gzip
import html
import json
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
  <link rel="icon" href="data:,">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{base}graphiql.min.css">
  <script src="{base}react.production.min.js"></script>
  <script src="{base}react-dom.production.min.js"></script>
  <script src="{base}graphiql.min.js"></script>
  <script id="leadbridge-graphiql" type="application/json">{config}</script>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script>
{script}
  </script>
</body>
</html>
"""

# Every subscription goes over the websocket (graphql-transport-ws), named or not: GraphiQL's
# own fetcher only recognises named ones. Header values a browser cannot send (not Latin-1, such
# as a pasted placeholder's "…") are answered with a message instead of a TypeError.
_SCRIPT = r"""
const config = JSON.parse(document.getElementById("leadbridge-graphiql").textContent);
const url = window.location.href.split("?")[0].split("#")[0];
const wsUrl = new URL(url);
wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
const http = GraphiQL.createFetcher({ url: url });

// The type of the operation to run, read from the text itself (the editor's parsed document
// can lag behind what was just typed): "query", "mutation", "subscription" or null.
function operationType(query, operationName) {
  const text = query.replace(/"{3}[\s\S]*?"{3}|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*/g, " ");
  const tokens = text.match(/[{}()]|@?[_A-Za-z][_0-9A-Za-z]*/g) || [];
  const operations = [];
  let depth = 0;
  let parens = 0;
  let pending = null;
  tokens.forEach((token, i) => {
    if (token === "(") {
      parens += 1;
    } else if (token === ")") {
      parens -= 1;
    } else if (token === "{") {
      if (depth === 0 && parens === 0) {
        if (pending === null) {
          operations.push({ type: "query", name: null });
        }
        pending = null;
      }
      depth += 1;
    } else if (token === "}") {
      depth -= 1;
    } else if (depth === 0 && parens === 0 && pending === null) {
      if (token === "query" || token === "mutation" || token === "subscription") {
        const next = tokens[i + 1] || "";
        pending = { type: token, name: /^[_A-Za-z]/.test(next) ? next : null };
        operations.push(pending);
      } else if (token === "fragment") {
        pending = { type: "fragment", name: null };
      }
    }
  });
  const chosen = operationName
    ? operations.find((o) => o.name === operationName)
    : operations.length === 1 ? operations[0] : null;
  return chosen ? chosen.type : null;
}

function subscribe(params, headers) {
  const queue = [];
  let wake = null;
  let finished = false;
  const push = (item) => {
    queue.push(item);
    if (wake) {
      wake();
      wake = null;
    }
  };
  const socket = new WebSocket(wsUrl.toString(), "graphql-transport-ws");
  const send = (message) => socket.send(JSON.stringify(message));
  const finish = () => {
    finished = true;
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000);
    }
    push(null);
  };
  socket.onopen = () => send({ type: "connection_init", payload: headers });
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connection_ack") {
      send({ id: "1", type: "subscribe", payload: params });
    } else if (message.type === "ping") {
      send({ type: "pong" });
    } else if (message.type === "next") {
      push(message.payload);
    } else if (message.type === "error") {
      push({ errors: message.payload });
      finish();
    } else if (message.type === "complete") {
      finish();
    }
  };
  socket.onclose = (event) => {
    if (!finished && event.code !== 1000) {
      const reason = event.reason || "no reason given";
      push({ errors: [{ message: "the websocket closed (" + event.code + "): " + reason }] });
    }
    finish();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      while (queue.length === 0) {
        await new Promise((resolve) => {
          wake = resolve;
        });
      }
      const item = queue.shift();
      return item === null ? { done: true, value: undefined } : { done: false, value: item };
    },
    async return() {
      if (!finished && socket.readyState === WebSocket.OPEN) {
        send({ id: "1", type: "complete" });
      }
      finish();
      return { done: true, value: undefined };
    },
  };
}

function fetcher(params, opts) {
  const headers = (opts && opts.headers) || {};
  for (const [name, value] of Object.entries(headers)) {
    if (/[^\u0000-\u00ff]/.test(String(value))) {
      return Promise.resolve({ errors: [{ message:
        "The header " + name + " holds characters a browser cannot send: put your API "
        + "token there, as {'Authorization': 'Bearer lbt_...'} (leadbridge tokens create)." }] });
    }
  }
  if (operationType(params.query || "", params.operationName) === "subscription") {
    return subscribe(params, headers);
  }
  // Without the (possibly stale) parsed document, GraphiQL's fetcher takes it for a query.
  return http(params, { ...opts, documentAST: undefined });
}

const headers = config.token
  ? JSON.stringify({ Authorization: "Bearer " + config.token }, null, 2)
  : undefined;
const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(React.createElement(GraphiQL, {
  fetcher: fetcher,
  // The token the demo just printed wins over one an earlier run left in local storage.
  headers: headers,
  defaultHeaders: "{}",
  isHeadersEditorEnabled: true,
  shouldPersistHeaders: true,
  defaultEditorToolsVisibility: "headers",
  defaultQuery: config.query,
}));
"""

_WITH_TOKEN = """# The demo's API token is in the Headers tab below.
{
  contacts(first: 10) {
    totalCount
    nodes { email tags }
  }
}
"""

_WITHOUT_TOKEN = """# Put an API token in the Headers tab below, as
#   {"Authorization": "Bearer <token>"}
# (create one with `leadbridge tokens create --name me --scope contacts:read`).
{
  contacts(first: 10) {
    totalCount
    nodes { email tags }
  }
}
"""


def graphiql_page(static_base: str, token: str | None = None) -> HTMLResponse:
    """The GraphiQL page; ``token`` (the demo's) is put in its headers editor."""
    base = html.escape(static_base if static_base.endswith("/") else static_base + "/")
    config = {"token": token, "query": _WITH_TOKEN if token else _WITHOUT_TOKEN}
    # Inside <script>: "<" escaped, so no value can close the element.
    embedded = json.dumps(config).replace("<", "\\u003c")
    page = _PAGE.format(base=base, config=embedded, script=_SCRIPT)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


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
