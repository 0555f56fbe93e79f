// The server's refusal of a graph (a 400 with its problems): each problem marked on the node it is about,
// the rest said over the canvas. Saving, running, planning and publishing all answer this way.

import { parseIssuePath } from "../graph.js";
import { plural, toast } from "../ui.js";
import { nodeLabel } from "./model.js";

export function applyServerErrors(editor, error) {
  const { state } = editor;
  state.serverErrors = {};
  const loose = [];
  for (const issue of error.fieldErrors) {
    const where = parseIssuePath(issue.path);
    if (where && where.list === "nodes" && state.graph.nodes[where.index]) {
      const nodeId = state.graph.nodes[where.index].id;
      state.serverErrors[nodeId] ||= {};
      state.serverErrors[nodeId][where.field || ""] = issue.message;
    } else if (where && where.list === "edges" && state.graph.edges[where.index]) {
      const edge = state.graph.edges[where.index];
      state.serverErrors[edge.target] ||= {};
      state.serverErrors[edge.target][""] = `edge from ${nodeLabel(state, edge.source)}: ${issue.message}`;
    } else {
      // Not on the canvas (a field such as name, or the graph as a whole): say where.
      loose.push(issue.path === "body" ? issue.message : `${issue.path}: ${issue.message}`);
    }
  }
  editor.refresh({ panel: true });
  const count = error.fieldErrors.length;
  // Which nodes, by the names people see: "(2 problems marked on the canvas: LLM 1, Image 1)".
  const marked = Object.keys(state.serverErrors).map((nodeId) => nodeLabel(state, nodeId));
  const where = marked.length ? `: ${marked.join(", ")}` : "";
  toast(count ? `${error.message} (${plural(count, "problem")} marked on the canvas${where})` : error.message, "error");
  if (loose.length) editor.showMessage(loose.join("; "));
}
