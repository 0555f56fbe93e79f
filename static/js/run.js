// One run: facts, per-node results, a timeline of node start and finish, and the logs; live while active
// (server-sent events, with each LLM answer as it is generated; polling if the stream cannot be opened).

import { api } from "./api.js";
import { approvalCard } from "./approval-card.js";
import { pollRun } from "./poll.js";
import { followRun } from "./run-stream.js";
import { isTranscript, stepsView } from "./steps.js";
import {
  RunLogs,
  formatCost,
  formatDuration,
  formatResultCost,
  formatTokens,
  isActive,
  outputImage,
  outputPreview,
  resultNote,
  runCounts,
  truncationNote,
} from "./runstate.js";
import { childRunLinks, childRunName, el, formatDate, once, readJsonScript, statusBadge, toast } from "./ui.js";

const { id } = readJsonScript("run-bootstrap");
const $ = (name) => document.getElementById(name);
const runLogs = new RunLogs(api.getLogPage);

function render(run) {
  $("run-status").replaceChildren(statusBadge(run.status));
  const waiting = run.status === "waiting";
  $("cancel").hidden = !isActive(run) && !waiting;
  $("rerun").disabled = isActive(run);
  // Resuming reruns only what failed, was skipped or cancelled: worth offering when something did.
  $("resume").hidden = isActive(run) || waiting || run.status === "succeeded";
  const facts = [
    ["Workflow", run.workflowName || "ad-hoc graph"],
    ["Version", run.workflowVersion ?? "–"],
    ["Scope", run.scope + (run.nodeIds && run.nodeIds.length ? ` (${run.nodeIds.join(", ")})` : "")],
    ["Started by", run.trigger + (run.triggerRef ? ` (${run.triggerRef})` : "")],
    [
      "Nodes",
      runCounts(run),
    ],
    ["Tokens", `${run.inputTokens ?? 0} in / ${run.outputTokens ?? 0} out`],
    ["Cost", formatCost(run.cost) || "–"],
    ["Duration", formatDuration(run.durationMs) || "–"],
    ["Created", formatDate(run.createdAt)],
    ["Finished", formatDate(run.completedAt) || "–"],
    ["Trace", run.traceId || "–"],
  ];
  $("run-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: String(value) })]));
  $("run-error").hidden = !run.errorSummary;
  $("run-error").textContent = run.errorSummary || "";
  renderValues($("run-inputs"), run.inputs);
  renderValues($("run-outputs"), run.outputs);
  renderFamily(run);
  renderApprovals(run);
  renderNodes(run);
  renderTimeline(run);
  renderLogs(run);
  document.body.dataset.status = run.status;
  document.body.dataset.ready = "true";
}

// A child run names the run (and node) that started it; a parent lists the child runs its
// Sub-workflow and Map nodes started, each linked to its own page.
function renderFamily(run) {
  const parent = $("run-parent");
  parent.hidden = !run.parentRunId;
  if (run.parentRunId) {
    parent.replaceChildren(
      "Started by node ",
      el("code", { text: run.parentNodeId }),
      " of run ",
      el("a", { href: `/runs/${run.parentRunId}/`, text: run.parentRunId.slice(0, 8) }),
    );
  }
  const children = run.childRuns || [];
  $("child-runs").closest("section").hidden = children.length === 0;
  $("child-runs").replaceChildren(...children.map((child) => el("li", {},
    el("a", { href: `/runs/${child.id}/`, "aria-label": `Child run ${child.id}` }, statusBadge(child.status)),
    " ",
    el("a", { href: `/runs/${child.id}/`, text: childRunName(child) }),
    " from node ",
    el("code", { text: labelOf(run, child.nodeId) }),
  )));
}

// The approvals the run waits for, each with Approve / Reject; once decided, the run is queued again and the
// page follows it live to its end. Cards already shown stay as they are, so a typed comment survives a render.
function renderApprovals(run) {
  const waiting = run.status === "waiting" ? (run.approvals || []).filter((approval) => !approval.decision) : [];
  const cards = $("approval-cards");
  $("approvals").hidden = waiting.length === 0;
  const shown = new Set(waiting.map((approval) => approval.nodeId));
  for (const card of [...cards.children]) if (!shown.has(card.dataset.node)) card.remove();
  for (const approval of waiting) {
    if ([...cards.children].some((card) => card.dataset.node === approval.nodeId)) continue;
    cards.append(approvalCard({ ...approval, runId: run.id }, {
      decide: api.decideApproval,
      onDecided: (decided) => {
        toast(`${decided.decision === "approve" ? "Approved" : "Rejected"}: the run goes on.`, "success", 2000);
        follow();
      },
      onError: (error) => {
        toast(`Could not decide: ${error.message}`, "error");
        // Decided elsewhere (the inbox, another tab) or no longer waiting: show the run as it is now.
        if (error.status === 409) follow();
      },
      context: el("h3", { text: labelOf(run, approval.nodeId) }),
    }));
  }
}

// Inputs or outputs by name; the section stays hidden when the workflow has none.
function renderValues(list, values) {
  const entries = Object.entries(values || {});
  list.closest("section").hidden = entries.length === 0;
  list.replaceChildren(
    ...entries.flatMap(([name, value]) => [
      el("dt", { text: name }),
      el("dd", {}, el("pre", { class: "output", dataset: { name }, text: outputPreview({ value }, 2000) })),
    ]),
  );
}

// A node as people read it, the editor's name for it ("Condition 1"); the id stays in links and paths.
// An Agent's tool call that waits is `<agent id>/<call id>`: named after its agent.
function labelOf(run, nodeId) {
  const labels = run.nodeLabels || {};
  const slash = nodeId.lastIndexOf("/");
  if (!labels[nodeId] && slash > 0 && labels[nodeId.slice(0, slash)]) return `${labels[nodeId.slice(0, slash)]} · ${nodeId.slice(slash + 1)}`;
  return labels[nodeId] || nodeId;
}

// Text cut with an ellipsis when too long for its column; the tooltip holds the whole of it.
function clipped(text, extraClass = "") {
  return el("div", { class: `clip ${extraClass}`.trim(), text, title: text });
}

function renderNodes(run) {
  const results = run.nodeResults || [];
  if (!results.length) {
    $("node-rows").replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty", text: isActive(run) ? "Waiting for the first node to finish…" : "No node results." })));
    return;
  }
  $("node-rows").replaceChildren(
    ...results.map((result) => {
      const image = outputImage(result.output);
      const note = resultNote(result);
      return el("tr", { dataset: { node: result.nodeId, status: result.status } },
        el("th", { scope: "row" }, clipped(labelOf(run, result.nodeId)), clipped(result.nodeType, "muted")),
        el("td", {}, statusBadge(result.status)),
        el("td", { text: formatDuration(result.durationMs) || "–" }),
        el("td", {}, clipped([result.provider, result.model].filter(Boolean).join(" / ") || "–")),
        el("td", { text: [formatTokens(result), formatResultCost(result)].filter(Boolean).join(" · ") || "–" }),
        el("td", {},
          result.reusedFrom
            ? el("div", { class: "muted" }, "reused from run ",
              el("a", { href: `/runs/${result.reusedFrom.runId}/`, text: result.reusedFrom.runId.slice(0, 8) }))
            : null,
          childRunsOf(run, result.nodeId),
          isTranscript(result.output?.transcript) ? stepsView(result.output.transcript) : null,
          image ? el("img", { class: "node__thumb", src: image, alt: `output of ${labelOf(run, result.nodeId)}` }) : null,
          note ? el("pre", { class: `output output--${note.kind}`, text: note.text }) : null,
          // An image is shown, not its reference's JSON ({"uploadId": …, "url": null}).
          note || image ? null : el("pre", { class: "output", text: outputPreview(result.output, 2000) }),
          wholeOutput(run, result)),
      );
    }),
  );
}

// A Sub-workflow or Map node's row links to the child runs it started.
function childRunsOf(run, nodeId) {
  const children = (run.childRuns || []).filter((child) => child.nodeId === nodeId);
  return children.length ? childRunLinks(children) : null;
}

function wholeOutput(run, result) {
  const note = truncationNote(result);
  if (!note) return null;
  return el("p", { class: "muted" }, `${note} `,
    el("a", { href: api.nodeOutputUrl(run.id, result.nodeId), download: true, text: "Download it" }));
}

function renderTimeline(run) {
  const timed = (run.nodeResults || []).filter((result) => result.startedAt);
  if (!timed.length) {
    $("timeline").replaceChildren(el("p", { class: "muted", text: isActive(run) ? "Nothing has finished yet." : "No timing recorded." }));
    return;
  }
  const starts = timed.map((result) => Date.parse(result.startedAt));
  const origin = Math.min(Date.parse(run.startedAt || run.createdAt), ...starts);
  const end = Math.max(...timed.map((result, i) => starts[i] + (result.durationMs || 0)), origin + 1);
  const span = end - origin;
  $("timeline").replaceChildren(
    ...timed.map((result, i) => {
      const left = ((starts[i] - origin) / span) * 100;
      const width = Math.max(((result.durationMs || 0) / span) * 100, 0.5);
      return el("div", { class: "timeline__row" },
        el("span", { class: "timeline__label", text: labelOf(run, result.nodeId), title: labelOf(run, result.nodeId) }),
        el("span", { class: "timeline__track" },
          el("span", {
            class: `timeline__bar status-bg-${result.status}`,
            style: `left: ${left}%; width: ${width}%`,
            title: `${labelOf(run, result.nodeId)}: started +${starts[i] - origin} ms, took ${formatDuration(result.durationMs)}`,
          })),
        el("span", { class: "timeline__time", text: `+${formatDuration(starts[i] - origin)} → ${formatDuration(starts[i] - origin + (result.durationMs || 0))}` }),
      );
    }),
  );
}

function renderLogs(run) {
  const { lines: logs, next } = runLogs.view(run);
  $("more-logs").hidden = !next;
  if (!logs.length) {
    $("logs").replaceChildren(el("li", { class: "empty", text: "No log lines." }));
    return;
  }
  $("logs").replaceChildren(
    ...logs.map((line) =>
      el("li", { class: `log log--${line.level}` },
        el("time", { datetime: line.timestamp, text: new Date(line.timestamp).toLocaleTimeString() }),
        el("span", { class: "log__level", text: line.level }),
        line.nodeId ? el("span", { class: "log__node", text: labelOf(run, line.nodeId) }) : null,
        el("span", { class: "log__message", text: line.message }),
      ),
    ),
  );
}

async function moreLogs() {
  try {
    await runLogs.loadMore();
    const run = await api.getRun(id);
    render(run);
  } catch (error) {
    toast(`Could not load more logs: ${error.message}`, "error");
  }
}

// What running nodes have generated so far: one box per node, above the results, updated in place and kept
// scrolled to the newest text (the box has a fixed height: it scrolls, it does not grow).
function renderLive(texts) {
  const rows = $("live-rows");
  $("live-nodes").hidden = texts.size === 0;
  for (const row of [...rows.children]) if (!texts.has(row.dataset.node)) row.remove();
  for (const [nodeId, text] of texts) {
    let row = [...rows.children].find((candidate) => candidate.dataset.node === nodeId);
    if (!row) {
      row = el("li", { class: "live__node", dataset: { node: nodeId } },
        el("span", { class: "live__label", text: nodeId }), el("pre", { class: "output output--live" }));
      rows.append(row);
    }
    const box = row.querySelector(".output--live");
    const shown = text || "…";
    if (box.textContent !== shown) {
      box.textContent = shown;
      box.scrollTop = box.scrollHeight;
    }
  }
}

// The tool calls running nodes have made so far (an Agent's steps while its transcript grows), one list per node.
function renderSteps(steps) {
  $("live-steps").hidden = steps.size === 0;
  $("live-step-rows").replaceChildren(...[...steps].map(([nodeId, nodeSteps]) =>
    el("li", { class: "live__node", dataset: { node: nodeId } }, el("span", { class: "live__label", text: nodeId }), stepsView(nodeSteps))));
}

// A finished run never changes: it is rendered once. An active one is followed until it ends; a waiting one
// until it waits, and again once a decision has queued it (`follow` is called again then).
let following = null;
async function follow() {
  if (following) following.stop();
  following = null;
  const onError = once((error) => toast(`Could not refresh the run: ${error.message}. Still trying…`, "error"));
  let run;
  try {
    run = await api.getRun(id);
  } catch (error) {
    onError(error);
    following = pollRun(api.getRun, id, render, { onError });
    return;
  }
  render(run);
  if (!isActive(run)) return;
  following = followRun(run, { getRun: api.getRun, eventsUrl: api.runEventsUrl(id), onRun: render, onLive: renderLive, onSteps: renderSteps, onError });
}

$("cancel").addEventListener("click", async () => {
  try {
    await api.cancelRun(id);
    toast("Cancelling…", "info", 2000);
  } catch (error) {
    toast(`Could not cancel: ${error.message}`, "error");
  }
});
$("rerun").addEventListener("click", async () => {
  try {
    const { runId } = await api.rerun(id);
    window.location.href = `/runs/${runId}/`;
  } catch (error) {
    toast(`Could not start the run again: ${error.message}`, "error");
  }
});
$("resume").addEventListener("click", async () => {
  try {
    const { runId } = await api.resumeRun(id);
    window.location.href = `/runs/${runId}/`;
  } catch (error) {
    toast(`Could not resume the run: ${error.message}`, "error");
  }
});
$("more-logs").addEventListener("click", moreLogs);
follow();
