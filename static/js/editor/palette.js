// The palette of node kinds: drag one onto the canvas, or focus it and press Enter.

import { kindIcon, paletteGroups } from "../kinds.js";
import { el } from "../ui.js";
import { addKind } from "./edits.js";
import { isNarrow, setPanel } from "./panels.js";
import { addByTap } from "./placement.js";

// A kind added without dragging lands in free space (beside the selected node, connected to it); on a phone
// the drawer then closes.
function addWithoutDragging(editor, kind) {
  addByTap(editor, kind);
  if (isNarrow(editor)) setPanel(editor, "palette", false);
}

// The kinds under their groups' headings, in the order the catalog gives.
export function buildPalette(editor) {
  const { state } = editor;
  editor.dom("palette").replaceChildren(
    ...paletteGroups(state.catalog.kinds).map(({ group, kinds }) =>
      el("li", { class: "palette__group", dataset: { group } },
        el("h3", { class: "palette__heading", text: group }),
        el("ul", { class: "palette__kinds", role: "list" }, ...kinds.map((kind) => paletteItem(editor, kind))),
      ),
    ),
  );
}

function paletteItem(editor, kind) {
  return el("li", {},
        el("button", {
          type: "button",
          class: `palette__item node--${kind.type}`,
          dataset: { kind: kind.type },
          title: kind.description,
          "aria-label": `Add ${kind.label} node: ${kind.description}`,
          onpointerdown: (event) => dragKind(editor, event, kind),
          onclick: (event) => {
            // Keyboard activation (Enter or Space) adds the node in the middle of the view.
            if (event.detail === 0) addWithoutDragging(editor, kind);
          },
        },
        el("span", { class: "palette__label" }, el("span", { class: "palette__icon", "aria-hidden": "true", text: kindIcon(kind) }), kind.label),
        el("span", { class: "palette__description", text: kind.description })),
  );
}

function dragKind(editor, event, kind) {
  const { canvas } = editor;
  if (event.button !== 0) return;
  event.preventDefault();
  const ghost = el("div", { class: `node node--${kind.type} node--ghost` },
    el("div", { class: "node__header" }, el("span", { class: "node__kind", text: kind.label })));
  ghost.style.left = `${event.clientX}px`;
  ghost.style.top = `${event.clientY}px`;
  document.body.append(ghost);
  // Over the canvas itself, not over a drawer or overlay lying on it.
  const overCanvas = (e) => {
    const target = document.elementFromPoint(e.clientX, e.clientY);
    return Boolean(target) && canvas.root.contains(target) && !target.closest(".canvas__overlay");
  };
  const start = { x: event.clientX, y: event.clientY };
  const move = (e) => {
    ghost.style.left = `${e.clientX}px`;
    ghost.style.top = `${e.clientY}px`;
    canvas.root.classList.toggle("is-drop-target", overCanvas(e));
  };
  const up = (e) => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    ghost.remove();
    canvas.root.classList.remove("is-drop-target");
    if (Math.hypot(e.clientX - start.x, e.clientY - start.y) < 4) {
      addWithoutDragging(editor, kind); // a tap or a click
    } else if (overCanvas(e)) {
      const at = canvas.clientToWorld(e.clientX, e.clientY);
      addKind(editor, kind.type, { x: at.x - 20, y: at.y - 16 });
    }
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}
