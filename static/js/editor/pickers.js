// The node picker: a searchable list of node kinds at the pointer. Dropping a connection on empty canvas
// opens it filtered to the kinds that can take (or give) that connection, and the new node is connected.

import { ConnectionRefused, addNode, connect, typesCompatible } from "../graph.js";
import { inputPorts, outputPorts } from "../portrules.js";
import { kindIcon } from "../kinds.js";
import { el } from "../ui.js";
import { edit } from "./edits.js";
import { closePopup, showPopup } from "./menu.js";
import { nodeLabel } from "./model.js";

// The port of a new node of `kind` that a connection dropped from `side` ("out" or "in") of type `type`
// would use, or null when the kind cannot take it. `portTypes` says how port types connect.
export function portFor(kind, side, type, portTypes) {
  const probe = { id: "", type: kind.type, data: {} };
  if (side === "out") {
    return inputPorts(probe, kind).find((port) => typesCompatible(type, port.type, portTypes)) || null;
  }
  return outputPorts(probe, kind).find((port) => typesCompatible(port.type, type, portTypes)) || null;
}

export function showNodePicker(editor, { where, at, filter = () => true, onPick }) {
  const kinds = editor.state.catalog.kinds.filter(filter);
  const search = el("input", { type: "search", class: "input", placeholder: "Search node kinds", "aria-label": "Search node kinds" });
  const list = el("ul", { class: "picker__list", role: "listbox", "aria-label": "Node kinds" });
  const pick = (kind) => {
    closePopup();
    onPick(kind);
  };
  const show = () => {
    const words = search.value.trim().toLowerCase();
    const shown = kinds.filter((kind) => !words || `${kind.label} ${kind.description}`.toLowerCase().includes(words));
    list.replaceChildren(
      ...(shown.length
        ? shown.map((kind) =>
            el("li", {},
              el("button", { type: "button", role: "option", class: `picker__item node--${kind.type}`, dataset: { kind: kind.type }, onclick: () => pick(kind) },
                el("span", { class: "palette__icon", "aria-hidden": "true", text: kindIcon(kind) }),
                el("span", {}, el("strong", { text: kind.label }), el("span", { class: "picker__description", text: kind.description })),
              ),
            ),
          )
        : [el("li", { class: "muted picker__none", text: "No kind fits here." })]),
    );
    return shown;
  };
  search.addEventListener("input", show);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const [first] = show();
      if (first) pick(first);
      event.preventDefault();
    }
  });
  const popup = el("div", { class: "popup picker", role: "dialog", "aria-label": "Add a node" },
    el("div", { class: "picker__title", text: at ? "Add a node here" : "Add a node" }), search, list);
  show();
  showPopup(popup, where);
  search.focus({ preventScroll: true });
}

// A connection dropped on empty canvas: pick a compatible kind, add it there and connect it.
export function pickForConnection(editor, drop) {
  showNodePicker(editor, {
    where: { clientX: drop.clientX, clientY: drop.clientY },
    at: drop.at,
    filter: (kind) => portFor(kind, drop.side, drop.type, editor.state.catalog.portTypes) !== null,
    onPick: (kind) => {
      const { state } = editor;
      const port = portFor(kind, drop.side, drop.type, state.catalog.portTypes);
      const position = drop.side === "out" ? { x: drop.at.x + 10, y: drop.at.y - 40 } : { x: drop.at.x - 250, y: drop.at.y - 40 };
      const added = addNode(state.graph, { type: kind.type, position }, kind);
      const connection =
        drop.side === "out"
          ? { source: drop.node, sourceHandle: drop.port, target: added.node.id, targetHandle: port.name }
          : { source: added.node.id, sourceHandle: port.name, target: drop.node, targetHandle: drop.port };
      // One edit, so one Undo takes back both the node and its connection.
      let graph = added.graph;
      try {
        graph = connect(added.graph, state.catalog, connection, (id) => nodeLabel({ ...state, graph: added.graph }, id)).graph;
      } catch (error) {
        if (!(error instanceof ConnectionRefused)) throw error;
        editor.showMessage(error.message);
      }
      state.selection = { nodes: new Set([added.node.id]), edges: new Set() };
      edit(editor, graph, { panel: true });
    },
  });
}
