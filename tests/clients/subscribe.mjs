// One subscription through the stock graphql-ws client (npm), printing what the client
// reports as one JSON line: [{next: result} ..., then {complete: true} | {errors: [...]} | {closed: {code, reason}}].
// Usage: node subscribe.mjs URL CONNECTION_PARAMS_JSON QUERY [VARIABLES_JSON]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, params, query, variables] = process.argv.slice(2);
// no retries: the test wants the first answer (the client retries 4403 by default, as its docs say)
const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: JSON.parse(params), retryAttempts: 0 });
const reported = [];
await new Promise((resolve) => {
  client.subscribe({ query, variables: JSON.parse(variables || '{}') }, {
    next: (value) => reported.push({ next: value }),
    error: (err) => {
      if (Array.isArray(err)) reported.push({ errors: err });
      else if (err && typeof err.code === 'number') reported.push({ closed: { code: err.code, reason: err.reason } });
      else reported.push({ thrown: String(err) });
      resolve();
    },
    complete: () => { reported.push({ complete: true }); resolve(); },
  });
});
console.log(JSON.stringify(reported));
await client.dispose();
process.exit(0);
