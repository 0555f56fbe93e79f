import { assert, equal, test } from "./harness.js";
import { ApiError, api } from "/static/js/api.js";
import { RunLogs } from "/static/js/runstate.js";

const line = (message) => ({ level: "info", message, timestamp: "2026-01-01T00:00:00Z", nodeId: null });

// The server's answers to log page requests, in order; everything else still reaches the real fetch.
async function withLogPages(answers, body) {
  const realFetch = window.fetch;
  const asked = [];
  window.fetch = async (url, init) => {
    if (!String(url).includes("/logs?")) return realFetch(url, init);
    asked.push(String(url));
    const [status, data] = answers.shift();
    return new Response(JSON.stringify(data), { status, headers: { "Content-Type": "application/json" } });
  };
  try {
    await body(asked);
  } finally {
    window.fetch = realFetch;
  }
}

test("more logs appends the next pages in order until there are none", async () => {
  const run = { logs: [line("first")], logsNext: "http://testserver/api/runs/r1/logs?page=2" };
  await withLogPages(
    [
      [200, { results: [line("second")], next: "http://testserver/api/runs/r1/logs?page=3" }],
      [200, { results: [line("third")], next: null }],
    ],
    async (asked) => {
      const logs = new RunLogs(api.getLogPage);
      equal(logs.view(run).next, run.logsNext);
      await logs.loadMore();
      await logs.loadMore();
      const { lines, next } = logs.view(run);
      equal(lines.map((l) => l.message), ["first", "second", "third"]);
      equal(next, null);
      equal(asked.length, 2);
    },
  );
});

test("a log page that fails to load is an error and keeps its lines and 'more logs'", async () => {
  const run = { logs: [line("first")], logsNext: "http://testserver/api/runs/r1/logs?page=2" };
  await withLogPages([[503, { detail: "The database is restarting." }]], async () => {
    const logs = new RunLogs(api.getLogPage);
    logs.view(run);
    let failure = null;
    try {
      await logs.loadMore();
    } catch (error) {
      failure = error;
    }
    assert(failure instanceof ApiError, `a failed page rejects with an ApiError, got ${failure}`);
    equal(failure.message, "The database is restarting.");
    const { lines, next } = logs.view(run);
    equal(lines.map((l) => l.message), ["first"]);
    equal(next, run.logsNext, "'more logs' stays, to try again");
  });
});
