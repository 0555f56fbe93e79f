// What each node of a run looks like on the canvas: queued, running, succeeded, failed, handled (a failure
// its onError handled), skipped, cancelled, reused; and before a run, what its plan says. Pure: derived from what the API returns.

export const ACTIVE = new Set(["queued", "running"]);

export function isActive(run) {
  return Boolean(run) && ACTIVE.has(run.status);
}

// {nodeId: status}. Finished nodes come from their results; in an active run a node whose inputs are all
// done is running, the rest are queued. Nodes outside a node/selection run's scope get nothing.
export function nodeStatuses(run, graph) {
  const statuses = {};
  const results = new Map((run.nodeResults || []).map((result) => [result.nodeId, result]));
  // A failure the node's onError handled is shown apart from one that failed the run.
  for (const [id, result] of results) statuses[id] = result.handled ? "handled" : result.status;
  if (!isActive(run)) return statuses;
  const inScope = scopeOf(run, graph);
  const parents = new Map();
  for (const edge of graph.edges || []) {
    if (!parents.has(edge.target)) parents.set(edge.target, []);
    parents.get(edge.target).push(edge.source);
  }
  for (const node of graph.nodes || []) {
    if (results.has(node.id) || !inScope.has(node.id)) continue;
    if (run.status === "queued") {
      statuses[node.id] = "queued";
      continue;
    }
    const waiting = (parents.get(node.id) || []).some((parent) => inScope.has(parent) && !results.has(parent));
    statuses[node.id] = waiting ? "queued" : "running";
  }
  return statuses;
}

// The node ids a run executes: all of them for a full run, else the chosen ones and everything upstream.
export function scopeOf(run, graph) {
  const ids = (graph.nodes || []).map((node) => node.id);
  if (!run.scope || run.scope === "full" || !(run.nodeIds || []).length) return new Set(ids);
  const parents = new Map();
  for (const edge of graph.edges || []) {
    if (!parents.has(edge.target)) parents.set(edge.target, []);
    parents.get(edge.target).push(edge.source);
  }
  const scope = new Set();
  const stack = [...run.nodeIds];
  while (stack.length) {
    const id = stack.pop();
    if (scope.has(id)) continue;
    scope.add(id);
    stack.push(...(parents.get(id) || []));
  }
  return scope;
}

const SKIP_REASONS = {
  branch_not_taken: "branch not taken",
  disabled: "disabled",
  upstream_failed: "upstream failed",
};

// Why a node was skipped, as the canvas and the run page show it: {kind, label, detail}, or null for a
// result that was not skipped. The reason is the result's errorKind; its errorMessage says which input.
export function skipReason(result) {
  if (!result || result.status !== "skipped") return null;
  const kind = result.errorKind || "";
  const label = SKIP_REASONS[kind] || kind.replaceAll("_", " ") || "skipped";
  return { kind, label, detail: result.errorMessage || "" };
}

// What is shown instead of a node's output when it has none: why it was skipped, or its error; else null.
export function resultNote(result) {
  const skipped = skipReason(result);
  if (skipped) return { kind: "skipped", text: `Skipped (${skipped.label})${skipped.detail ? `: ${skipped.detail}` : ""}` };
  if (result && result.errorMessage) return { kind: "error", text: `${result.errorKind || "error"}: ${result.errorMessage}` };
  return null;
}

// A short text preview of a node's output value(s).
export function outputPreview(output, limit = 400) {
  if (output === null || output === undefined) return "";
  let value = output;
  if (typeof output === "object" && !Array.isArray(output)) {
    const values = Object.values(output);
    if (values.length === 1) value = values[0];
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

// The note under an output the run detail cut (RUN_DETAIL_MAX_OUTPUT_CHARS), else null.
export function truncationNote(result) {
  if (!result || !result.outputTruncated) return null;
  return `Cut to fit: the whole output is ${Number(result.outputBytes).toLocaleString("en")} bytes.`;
}

// The image URL inside an output, if it carries one (an Image node's reference), else null.
export function outputImage(output) {
  if (!output || typeof output !== "object") return null;
  for (const value of Object.values(output)) {
    if (value && typeof value === "object" && typeof value.url === "string" && value.url) return value.url;
    if (value && typeof value === "object" && typeof value.uploadId === "string" && value.uploadId) {
      return `/api/uploads/${value.uploadId}/content`;
    }
  }
  return null;
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
}

// A reused result called no model and cost nothing: it shows no "0 in / 0 out tokens" and no "$0".
export function formatTokens(result) {
  if (result.status === "reused") return "";
  const input = result.inputTokens;
  const output = result.outputTokens;
  if (input == null && output == null) return "";
  return `${input ?? 0} in / ${output ?? 0} out tokens`;
}

// A run's logs as its page shows them: the first page comes with the run (and is refreshed with it),
// "more logs" appends the following pages in order. A page that fails to load changes nothing.
export class RunLogs {
  constructor(getPage) {
    this.getPage = getPage;
    this.extra = [];
    this.next = null;
  }

  // The lines to show and the next page's URL (null when there is none), for the run as last fetched.
  view(run) {
    if (!this.extra.length) this.next = run.logsNext || null;
    return { lines: [...(run.logs || []), ...this.extra], next: this.next };
  }

  async loadMore() {
    if (!this.next) return;
    const page = await this.getPage(this.next); // rejects on a failed page, before anything changes
    this.extra = [...this.extra, ...page.results];
    this.next = page.next || null;
  }
}

// {nodeId: "will-run" | "reuse"} from POST /api/execute/plan; nodes the run leaves out get nothing.
export function planStatuses(plan) {
  const names = { run: "will-run", reuse: "reuse" };
  const statuses = {};
  for (const node of plan.nodes || []) {
    if (names[node.fate]) statuses[node.nodeId] = names[node.fate];
  }
  return statuses;
}

// "3 LLM calls · 24 reused · 6 to run": what pressing Run would do; a Map's calls are per item
// ("3 LLM calls + 2 per item of map-1 · …"), since how many items it gets is known only when it runs.
export function planSummary(plan) {
  const count = (fate) => (plan.nodes || []).filter((node) => node.fate === fate).length;
  const calls = `${plan.llmCalls} LLM call${plan.llmCalls === 1 ? "" : "s"}`;
  const perItem = Object.entries(plan.llmCallsPerItem || {}).map(([nodeId, n]) => ` + ${n} per item of ${nodeId}`);
  return `${count("run")} to run, ${count("reuse")} reused · ${calls}${perItem.join("")}`;
}

// A node result's cost as formatTokens shows its tokens: nothing for a reused one.
export function formatResultCost(result) {
  return result.status === "reused" ? "" : formatCost(result.cost);
}

// "3 ran, 7 reused" (then how many failed or were skipped, if any): how the banner, the runs list and the
// run page all count a run's nodes. Ran: executed, whether it succeeded or failed; a reused node did not run.
export function runCounts(run) {
  const parts = [`${(run.succeededNodes ?? 0) + (run.failedNodes ?? 0)} ran`];
  if (run.reusedNodes) parts.push(`${run.reusedNodes} reused`);
  if (run.failedNodes) parts.push(`${run.failedNodes} failed`);
  if (run.skippedNodes) parts.push(`${run.skippedNodes} skipped`);
  return parts.join(", ");
}

// "$0.0123", "$0" for nothing spent (all reused), or "" when nothing had a price (null).
export function formatCost(cost) {
  if (cost === null || cost === undefined) return "";
  const amount = Number(cost);
  if (amount === 0) return "$0";
  return `$${amount.toFixed(Math.abs(amount) < 0.01 ? 6 : 4)}`;
}
