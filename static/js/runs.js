// The runs page: every run, newest first, filtered by status, a page at a time.

import { api } from "./api.js";
import { formatDuration, isActive, runCounts } from "./runstate.js";
import { el, formatDate, plural, statusBadge } from "./ui.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(window.location.search);
const view = {
  page: Number(params.get("page")) || 1,
  status: params.get("status") || "",
  limit: Math.min(Number(params.get("limit")) || 25, 100),
};

// Answers to superseded requests (an older filter or search) are dropped when they arrive late.
let latest = 0;
let refreshTimer = null;

async function load() {
  const ticket = ++latest;
  const rows = $("run-rows");
  let page;
  try {
    page = await api.listRuns({ page: view.page, limit: view.limit, status: view.status });
  } catch (error) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "error", text: `Could not load runs: ${error.message}` })));
    return;
  }
  if (ticket !== latest) return;
  if (!page.results.length) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty", text: view.status ? `No ${view.status} runs.` : "No runs yet. Open a workflow and press Run." })));
  } else {
    rows.replaceChildren(...page.results.map(row));
  }
  renderPager(page.count);
  document.body.dataset.ready = "true";
  // While a run on this page is queued or running, refresh the list every two seconds.
  clearTimeout(refreshTimer);
  if (page.results.some(isActive)) refreshTimer = setTimeout(load, 2000);
}

function row(run) {
  const counts = runCounts(run);
  return el("tr", { dataset: { id: run.id } },
    el("td", {}, el("a", { href: `/runs/${run.id}/`, "aria-label": `Run ${run.id}` }, statusBadge(run.status))),
    el("td", {}, run.workflowId ? el("a", { href: `/workflows/${run.workflowId}/`, text: run.workflowName || "(workflow)" }) : el("span", { class: "muted", text: run.workflowName || "ad-hoc graph" })),
    // A child run (started by a Sub-workflow or Map node) links to the run that started it.
    el("td", {}, run.parentRunId
      ? el("a", { href: `/runs/${run.parentRunId}/`, class: "muted", title: `Started by node ${run.parentNodeId} of run ${run.parentRunId}`, text: `child of ${run.parentRunId.slice(0, 8)}` })
      : run.scope),
    el("td", { text: counts }),
    el("td", { text: formatDuration(run.durationMs) || "–" }),
    el("td", {}, el("a", { href: `/runs/${run.id}/`, text: formatDate(run.startedAt || run.createdAt) })),
  );
}

function renderPager(count) {
  const pages = Math.max(1, Math.ceil(count / view.limit));
  if (pages <= 1 && view.page <= 1) {
    $("pager").replaceChildren(count ? el("span", { class: "muted", text: plural(count, "run") }) : "");
    return;
  }
  const go = (page) => {
    view.page = page;
    sync();
    load();
  };
  $("pager").replaceChildren(
    el("button", { class: "button button--small", type: "button", disabled: view.page <= 1, text: "← Newer", onclick: () => go(view.page - 1) }),
    el("span", { class: "muted", text: ` Page ${view.page} of ${pages} · ${plural(count, "run")} ` }),
    el("button", { class: "button button--small", type: "button", disabled: view.page >= pages, text: "Older →", onclick: () => go(view.page + 1) }),
  );
}

function sync() {
  const search = new URLSearchParams();
  if (view.status) search.set("status", view.status);
  if (view.page > 1) search.set("page", String(view.page));
  if (view.limit !== 25) search.set("limit", String(view.limit));
  const text = search.toString();
  window.history.replaceState(null, "", text ? `?${text}` : window.location.pathname);
}

$("status-filter").value = view.status;
$("status-filter").addEventListener("change", () => {
  view.status = $("status-filter").value;
  view.page = 1;
  sync();
  load();
});
load();
