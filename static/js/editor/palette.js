// The palette of node kinds: drag one onto the canvas, or focus it and press Enter.

import { el } from "../ui.js";
import { addKind } from "./edits.js";

export function buildPalette(editor) {
  const { state, canvas } = editor;
  editor.dom("palette").replaceChildren(
    ...state.catalog.map((kind) =>
      el("li", {},
        el("button", {
          type: "button",
          class: `palette__item node--${kind.type}`,
          dataset: { kind: kind.type },
          title: kind.description,
          "aria-label": `Add ${kind.label} node: ${kind.description}`,
          onpointerdown: (event) => dragKind(editor, event, kind),
          onclick: (event) => {
            // Keyboard activation (Enter or Space) adds the node in the middle of the view.
            if (event.detail === 0) {
              const middle = canvas.middleInWorld();
              addKind(editor, kind.type, { x: middle.x - 110, y: middle.y - 40 });
            }
          },
        },
        el("span", { class: "palette__label", text: kind.label }),
        el("span", { class: "palette__description", text: kind.description })),
      ),
    ),
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
  const move = (e) => {
    ghost.style.left = `${e.clientX}px`;
    ghost.style.top = `${e.clientY}px`;
    canvas.root.classList.toggle("is-drop-target", canvas.isOverCanvas(e.clientX, e.clientY));
  };
  const up = (e) => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    ghost.remove();
    canvas.root.classList.remove("is-drop-target");
    if (canvas.isOverCanvas(e.clientX, e.clientY)) {
      const at = canvas.clientToWorld(e.clientX, e.clientY);
      addKind(editor, kind.type, { x: at.x - 20, y: at.y - 16 });
    }
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}
