// The banner over the canvas: the run shown (its status, counts, time and cost) or the plan shown, each
// with a Clear button; and letting go of them (a plan no longer holds once the graph changes).

import { formatCost, formatDuration, planSummary, runCounts } from "../runstate.js";
import { el, statusBadge } from "../ui.js";

// A plan no longer holds once the graph changes.
export function dropPlan(editor) {
  if (!editor.state.plan) return;
  editor.state.plan = null;
  renderRunBanner(editor);
}

// The run shown stops being followed (its live texts go with it).
export function stopFollowing(state) {
  if (state.follower) state.follower.stop();
  state.follower = null;
  state.liveTexts = new Map();
  state.liveSteps = new Map();
}

export function renderRunBanner(editor) {
  const { state } = editor;
  const banner = editor.dom("run-banner");
  const run = state.run;
  if (!run && state.plan) {
    banner.hidden = false;
    const changesOnly = state.planReuse === "all";
    banner.replaceChildren(
      el("span", { class: "badge badge--reuse", text: changesOnly ? "plan: run changes" : "plan: run" }),
      el("span", { id: "plan-summary", text: ` ${planSummary(state.plan)} ` }),
      el("button", {
        id: "plan-other",
        type: "button",
        class: "button button--ghost button--small",
        text: changesOnly ? "Plan Run instead" : "Plan Run changes instead",
        onclick: () => editor.plan({ reuse: changesOnly ? null : "all" }),
      }),
      el("button", {
        type: "button",
        class: "button button--ghost button--small",
        text: "Clear",
        "aria-label": "Clear the plan from the canvas",
        onclick: () => {
          dropPlan(editor);
          editor.refresh();
        },
      }),
    );
    return;
  }
  if (!run) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  const cost = formatCost(run.cost);
  const counts = run.totalNodes ? ` · ${runCounts(run)}` : "";
  banner.replaceChildren(
    statusBadge(run.status),
    el("span", {
      text: ` ${counts}${run.durationMs != null ? ` · ${formatDuration(run.durationMs)}` : ""}${cost ? ` · ${cost}` : ""} `,
    }),
    el("a", { href: `/runs/${run.id}/`, text: "Open run page" }),
    el("button", {
      type: "button",
      class: "button button--ghost button--small",
      text: "Clear",
      "aria-label": "Clear run results from the canvas",
      onclick: () => {
        stopFollowing(state);
        state.run = null;
        renderRunBanner(editor);
        editor.refresh({ panel: true });
      },
    }),
  );
}
