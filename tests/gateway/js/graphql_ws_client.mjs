// The npm graphql-ws client against a live gateway: a query, an anonymous subscription, and
// a connection refused for a bad token. Prints one JSON document.
// Usage: node graphql_ws_client.mjs WS_URL TOKEN RUN_ID
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, runId] = process.argv.slice(2);

function client(secret) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${secret}` },
    retryAttempts: 0,
  });
}

async function collect(session, payload) {
  const results = [];
  for await (const result of session.iterate(payload)) {
    results.push(result);
  }
  return results;
}

const session = client(token);
const query = await collect(session, { query: "{ contacts { totalCount } }" });
const subscription = await collect(session, {
  query: "subscription ($id: ID!) { syncRunProgress(id: $id) { status pulled } }",
  variables: { id: runId },
});
await session.dispose();

let refused = null;
const stale = client("lbt_stale");
try {
  await collect(stale, { query: "{ contacts { totalCount } }" });
} catch (event) {
  refused = { code: event.code, reason: event.reason };
}
await stale.dispose();

console.log(JSON.stringify({ query, subscription, refused }));
