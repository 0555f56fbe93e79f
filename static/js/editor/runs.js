// Runs from the editor: starting one, following it on the canvas (banner, statuses), the Runs tab.

import { ApiError, api } from "../api.js";
import { followRun } from "../run-stream.js";
import { formatDuration, isActive } from "../runstate.js";
import { el, formatDate, once, statusBadge, toast } from "../ui.js";
import { isDirty } from "./model.js";
import { renderRunBanner, stopFollowing } from "./runbanner.js";
import { inputsForRun } from "./runform.js";
import { applyServerErrors } from "./servererrors.js";
import { commitTyping } from "./typing.js";

// `reuse`: "all" for Run changes, which reuses every result whose content key is unchanged (an LLM at
// temperature 0.7 included), so only the changed nodes and what follows them run; else the kinds decide.
export function executeBody(editor, scope, nodeIds, reuse = null) {
  const { state, boot } = editor;
  // A saved graph runs as its version; unsaved edits run as they are on the canvas.
  const body = isDirty(state)
    ? { workflowId: boot.id, nodes: state.graph.nodes, edges: state.graph.edges, scope }
    : { workflowId: boot.id, scope };
  if (scope !== "full") body.nodeIds = nodeIds;
  if (reuse) body.reuse = reuse;
  return body;
}

// Shows on the canvas what Run (or, with reuse "all", Run changes) would do: which nodes would run and
// which would reuse an earlier result.
export async function showPlan(editor, { reuse = null } = {}) {
  const { state } = editor;
  commitTyping(editor);
  try {
    const plan = await api.planExecution(executeBody(editor, "full", [], reuse));
    stopFollowing(state);
    state.run = null;
    state.plan = plan;
    state.planReuse = reuse;
    state.serverErrors = {};
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 400) applyServerErrors(editor, error);
    else toast(`Could not plan the run: ${error.message}`, "error");
  }
  renderRunBanner(editor);
  editor.refresh();
}

export async function startRun(editor, scope, nodeIds = [], { reuse = null } = {}) {
  const { state } = editor;
  commitTyping(editor);
  const body = executeBody(editor, scope, nodeIds, reuse);
  const inputs = await inputsForRun(editor, scope);
  if (inputs === null) return;
  if (Object.keys(inputs).length) body.inputs = inputs;
  editor.dom("run").disabled = true;
  try {
    const { runId } = await api.execute(body);
    state.serverErrors = {};
    state.plan = null;
    showRun(editor, { id: runId, status: "queued", scope, nodeIds, nodeResults: [], logs: [] });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 400) applyServerErrors(editor, error);
    else if (error.status === 429) toast("Too many runs right now; wait a moment and try again.", "error");
    else toast(`Could not start the run: ${error.message}`, "error");
    editor.refresh();
  }
}

export function showRun(editor, run) {
  const { state } = editor;
  stopFollowing(state);
  state.run = run;
  renderRunBanner(editor);
  editor.refresh({ panel: true });
  if (!isActive(run)) return;
  state.follower = followRun(run, {
    getRun: api.getRun,
    eventsUrl: api.runEventsUrl(run.id),
    onRun(latest) {
      state.run = latest;
      renderRunBanner(editor);
      editor.refresh({ panel: !state.typing });
      if (!isActive(latest)) {
        stopFollowing(state);
        loadRunHistory(editor);
        const kind = latest.status === "succeeded" ? "success" : latest.status === "cancelled" ? "info" : "error";
        toast(runEndMessage(latest), kind);
      }
    },
    onLive(texts) {
      const changed = [...new Set([...texts.keys(), ...state.liveTexts.keys()])].filter(
        (nodeId) => texts.get(nodeId) !== state.liveTexts.get(nodeId),
      );
      state.liveTexts = texts;
      for (const nodeId of changed) editor.refresh({ node: nodeId });
    },
    onSteps(steps) {
      state.liveSteps = steps;
      editor.refresh({ panel: !state.typing });
    },
    onError: once((error) => toast(`Lost touch with the run: ${error.message}. Still trying…`, "error")),
  });
}

// "Run succeeded.", "Run failed: …"; a cancelled run says so once, not "Run cancelled: cancelled".
export function runEndMessage(run) {
  const summary = run.errorSummary && run.errorSummary.toLowerCase() !== run.status ? run.errorSummary : "";
  return `Run ${run.status}${summary ? `: ${summary}` : "."}`;
}

export async function cancelRun(editor) {
  const { state } = editor;
  if (!state.run) return;
  try {
    await api.cancelRun(state.run.id);
    toast("Cancelling…", "info", 2000);
  } catch (error) {
    toast(`Could not cancel: ${error.message}`, "error");
  }
}

// On opening the editor: the latest run of the version being edited, on the canvas (statuses, previews, the
// Output tab), as it was before a reload; followed live if it is still going. `runs`: the newest first.
export async function showLatestRun(editor, runs) {
  const latest = runs.find((run) => run.workflowVersion === editor.state.version);
  const busy = () => editor.state.run || editor.state.plan; // a run or a plan shown meanwhile wins
  if (!latest || busy()) return;
  try {
    const run = await api.getRun(latest.id);
    if (!busy()) showRun(editor, run);
  } catch (error) {
    toast(`Could not show the last run: ${error.message}`, "error");
  }
}

// Lists the workflow's latest runs in the Runs tab; answers them (newest first), or [] when they cannot load.
export async function loadRunHistory(editor) {
  const list = editor.dom("run-history");
  try {
    const page = await api.listRuns({ workflow: editor.boot.id, limit: 20 });
    if (!page.results.length) {
      list.replaceChildren(el("li", { class: "empty", text: "No runs yet. Press Run to start one." }));
      return [];
    }
    list.replaceChildren(
      ...page.results.map((run) =>
        el("li", { class: "run-item" },
          el("button", {
            type: "button",
            class: "run-item__open",
            "aria-label": `Show run from ${formatDate(run.createdAt)} on the canvas`,
            onclick: async () => {
              try {
                showRun(editor, await api.getRun(run.id));
              } catch (error) {
                toast(`Could not open the run: ${error.message}`, "error");
              }
            },
          },
          statusBadge(run.status),
          el("span", { class: "run-item__when", text: formatDate(run.createdAt) }),
          el("span", { class: "muted", text: `${run.scope} · ${formatDuration(run.durationMs) || "–"}` })),
          el("a", { href: `/runs/${run.id}/`, class: "run-item__link", text: "Details" }),
        ),
      ),
    );
    return page.results;
  } catch (error) {
    list.replaceChildren(el("li", { class: "error", text: `Could not load runs: ${error.message}` }));
    return [];
  }
}
