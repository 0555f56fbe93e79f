// The editor's toolbar on a phone: one row holding the workflow's name, Nodes, Run and Details; every other
// control (Save, Undo, Plan, the save state, whatever is added later) is listed by a "⋯" menu instead.
// The layout is CSS (static/css/phone.css); this module marks the controls and builds the menu.

import { el } from "../ui.js";
import { showMenu } from "./menu.js";

// What stays in the one row; everything else in the toolbar overflows into the menu on narrow screens.
const KEPT = new Set(["toggle-palette", "workflow-name", "run", "cancel", "toggle-details", "toolbar-more"]);

function labelOf(control) {
  return control.getAttribute("aria-label") || control.textContent.trim();
}

// The menu's items, read from the overflowing controls as they are now (enabled, hidden, their text).
export function overflowItems(controls) {
  const items = [];
  for (const control of controls) {
    if (control.hidden || control.classList.contains("toolbar__spacer")) continue;
    const label = labelOf(control);
    if (!label) continue;
    const actionable = control.matches("button, a[href]");
    items.push({ label, disabled: !actionable || control.disabled, run: () => control.click() });
  }
  return items;
}

export function setupToolbarOverflow(editor) {
  const toolbar = editor.dom("editor").querySelector(".editor__toolbar");
  const more = el("button", {
    id: "toolbar-more",
    type: "button",
    class: "button button--icon toolbar__more",
    "aria-label": "More actions",
    "aria-haspopup": "menu",
    title: "More actions",
    text: "⋯",
  });
  toolbar.insertBefore(more, editor.dom("toggle-details"));
  more.addEventListener("click", () => {
    const controls = [...toolbar.children].filter((child) => !KEPT.has(child.id));
    const box = more.getBoundingClientRect();
    showMenu(overflowItems(controls), { clientX: box.right, clientY: box.bottom + 4 }, "More actions");
  });
  for (const child of toolbar.children) {
    if (!KEPT.has(child.id)) child.classList.add("toolbar__overflowing");
  }
  // Controls added to the toolbar later (by other modules) overflow too.
  new MutationObserver((records) => {
    for (const record of records) {
      for (const added of record.addedNodes) {
        if (added.nodeType === 1 && !KEPT.has(added.id)) added.classList.add("toolbar__overflowing");
      }
    }
  }).observe(toolbar, { childList: true });
}
