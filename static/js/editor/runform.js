// The Run form: a full run of a workflow with Input nodes asks for their values first, prefilled with the
// values used last (remembered per workflow in this browser).

import { graphInterface } from "../graph.js";
import { el } from "../ui.js";

const STORAGE_PREFIX = "weft.run-inputs.";

export function rememberedInputs(workflowId, storage = window.localStorage) {
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_PREFIX + workflowId) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

export function rememberInputs(workflowId, values, storage = window.localStorage) {
  try {
    storage.setItem(STORAGE_PREFIX + workflowId, JSON.stringify(values));
  } catch {
    // Storage full or disabled: the form is simply not prefilled next time.
  }
}

// Shows a dialog with one field per input; resolves to {name: value} (empty optional fields left out) or
// null when cancelled. `inputs` is graphInterface(graph).inputs; `previous` the values used last time.
export function askInputs(inputs, previous = {}) {
  return new Promise((resolve) => {
    const fields = inputs.map((input) => {
      const id = `run-input-${input.name}`;
      const value = previous[input.name] ?? input.default ?? "";
      const control =
        input.type === "text"
          ? el("textarea", { id, class: "input", rows: 2, name: input.name })
          : el("input", { id, class: "input", type: "text", name: input.name, placeholder: "upload id or https:// URL" });
      control.value = typeof value === "string" ? value : "";
      control.required = input.required;
      const hint = [input.type, input.required ? "required" : "optional", input.description].filter(Boolean).join(" · ");
      return {
        input,
        control,
        row: el("div", { class: "field" }, el("label", { for: id, text: input.name }), control, el("div", { class: "field__help", text: hint })),
      };
    });
    const dialog = el(
      "dialog",
      { class: "dialog", "aria-labelledby": "run-form-title" },
      el("form", { method: "dialog", id: "run-form" },
        el("h2", { id: "run-form-title", text: "Run with inputs" }),
        ...fields.map((field) => field.row),
        el("div", { class: "dialog__actions" },
          el("button", { type: "submit", value: "cancel", class: "button", formnovalidate: true, text: "Cancel" }),
          el("button", { type: "submit", value: "run", class: "button button--primary", text: "▶ Run" }),
        ),
      ),
    );
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const values = {};
      for (const { input, control } of fields) {
        if (control.value !== "" || input.required) values[input.name] = control.value;
      }
      dialog.remove();
      resolve(dialog.returnValue === "run" ? values : null);
    });
    dialog.showModal();
  });
}

// The inputs a run of `scope` sends: {} when the graph has no Input nodes, null when the person cancelled.
// A full run asks (and remembers the answer); a node or selection run reuses the last values, since the
// nodes it runs may not need them at all.
export async function inputsForRun(editor, scope, storage = window.localStorage) {
  const { inputs } = graphInterface(editor.state.graph, editor.state.kinds);
  if (!inputs.length) return {};
  const previous = rememberedInputs(editor.boot.id, storage);
  if (scope !== "full") {
    return Object.fromEntries(inputs.filter((input) => input.name in previous).map((input) => [input.name, previous[input.name]]));
  }
  const values = await askInputs(inputs, previous);
  if (values !== null) rememberInputs(editor.boot.id, values, storage);
  return values;
}
