// Runs graphql-http's GraphQL-over-HTTP audit against a server and prints the results as JSON.
//   node tests/node/graphql_http_audit.js <url> <bearer>
// Every request carries the bearer: /graphql answers nothing without a credential. The audits
// run one after another: all at once they would pass the key's concurrency limit and meet 429s.
'use strict';
const { serverAudits } = require('graphql-http');

async function main() {
  const [url, bearer] = process.argv.slice(2);
  const fetchFn = (input, init = {}) =>
    fetch(input, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${bearer}` } });
  const results = [];
  for (const { fn } of serverAudits({ url, fetchFn })) {
    const { id, name, status, reason } = await fn();
    results.push({ id, name, status, reason });
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
