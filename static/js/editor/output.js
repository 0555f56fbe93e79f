// The Output tab: what the selected node received and produced in the run shown on the canvas, like n8n's
// input/output panes: long text wrapped, JSON pretty-printed, images shown; status, timing, model, tokens, cost.

import { api } from "../api.js";
import { nodeName } from "../kinds.js";
import { formatDuration, formatResultCost, formatTokens, resultNote, truncationNote } from "../runstate.js";
import { isTranscript, stepsView } from "../steps.js";
import { childRunLinks, el, formatDate, statusBadge } from "../ui.js";
import { onlySelectedNode } from "./model.js";

export function renderOutput(editor) {
  const { state } = editor;
  const container = editor.dom("node-output");
  const node = onlySelectedNode(state);
  if (!node) {
    container.replaceChildren(el("p", { class: "empty", text: "Select a node to see what it received and produced." }));
    return;
  }
  const run = state.run;
  const result = run && (run.nodeResults || []).find((candidate) => candidate.nodeId === node.id);
  const title = nodeName(node, state.kinds.get(node.type));
  const growing = state.liveSteps && state.liveSteps.get(node.id);
  if (!result && growing) {
    container.replaceChildren(el("h2", { text: title }), el("h3", { text: "Steps so far" }), stepsView(growing));
    return;
  }
  if (!result) {
    const why = run ? "This node has no result in the run shown." : "No run shown yet: run the workflow, or open a run from the Runs tab.";
    container.replaceChildren(el("h2", { text: title }), el("p", { class: "empty", text: why }));
    return;
  }
  const note = resultNote(result);
  const parts = [
    el("div", { class: "panel__heading" }, el("h2", { text: title }), statusBadge(result.status)),
    el("dl", { class: "facts output-facts" },
      el("dt", { text: "Run" }),
      el("dd", {}, el("a", { href: `/runs/${run.id}/`, text: run.createdAt ? formatDate(run.createdAt) : "Open run page" })),
      el("dt", { text: "Duration" }), el("dd", { text: formatDuration(result.durationMs) || "–" }),
      el("dt", { text: "Model" }), el("dd", { text: [result.provider, result.model].filter(Boolean).join(" / ") || "–" }),
      el("dt", { text: "Tokens" }), el("dd", { text: formatTokens(result) || "–" }),
      el("dt", { text: "Cost" }), el("dd", { text: formatResultCost(result) || "–" }),
      result.reusedFrom ? el("dt", { text: "Reused" }) : null,
      result.reusedFrom
        ? el("dd", {}, "from run ", el("a", { href: `/runs/${result.reusedFrom.runId}/`, text: result.reusedFrom.runId.slice(0, 8) }))
        : null,
    ),
    childRunsView(run, node.id),
    el("h3", { text: "Inputs" }),
    valuesView(result.inputs, "No inputs."),
    el("h3", { text: "Output" }),
    note
      ? el("pre", { class: `output output--wrap output--${note.kind}`, text: note.text })
      : valuesView(result.output, "No output."),
    truncationLine(run, result),
  ];
  container.replaceChildren(...parts.filter(Boolean));
}

// A Sub-workflow or Map node's child runs (a Map's in the order they started), each linked to its run page.
function childRunsView(run, nodeId) {
  const children = (run.childRuns || []).filter((child) => child.nodeId === nodeId);
  if (!children.length) return null;
  return el("section", { class: "child-runs-of-node" },
    el("h3", { text: children.length > 1 ? `Child runs (${children.length})` : "Child run" }),
    childRunLinks(children),
  );
}

// A stored output cut to its limit says so, with its whole size and a link to the whole of it.
function truncationLine(run, result) {
  const note = truncationNote(result);
  if (!note) return null;
  return el("p", { class: "muted" }, `${note} `,
    el("a", { href: api.nodeOutputUrl(run.id, result.nodeId), download: true, text: "Download it" }));
}

// {port: value} as one block per port.
function valuesView(values, empty) {
  if (values === null || values === undefined || (typeof values === "object" && !Object.keys(values).length)) {
    return el("p", { class: "muted", text: empty });
  }
  if (typeof values !== "object" || Array.isArray(values)) return valueView(values);
  return el("div", { class: "port-values" },
    Object.entries(values).map(([port, value]) =>
      el("section", { class: "port-value" }, el("div", { class: "port-value__name", text: port }), valueView(value)),
    ),
  );
}

export function valueView(value) {
  if (isTranscript(value)) return stepsView(value);
  const image = imageUrl(value);
  if (image) return el("img", { class: "result-image", src: image, alt: "image" });
  if (typeof value === "string") return el("pre", { class: "output output--wrap", text: value });
  return el("pre", { class: "output output--json", text: JSON.stringify(value, null, 2) });
}

function imageUrl(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  if (typeof value.uploadId === "string" && value.uploadId) return api.uploadContentUrl(value.uploadId);
  if (typeof value.url === "string" && value.url && ("uploadId" in value || "mimeType" in value)) return value.url;
  return null;
}
