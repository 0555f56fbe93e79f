// The selected node's settings as a form built from its kind's dataSchema.

import { fieldsFor, parseInput } from "./schema.js";
import { el } from "./ui.js";

// Builds the form into `container`; onInput(name, value) on every edit, onCommit() when a field is left.
// `skip` names fields another control edits (an Image node's upload).
export function renderNodeForm(container, { node, kind, errors, onInput, onCommit, skip = [] }) {
  const fields = fieldsFor(kind.dataSchema).filter((field) => !skip.includes(field.name));
  // The label first: it names the node on the canvas.
  fields.sort((a, b) => (a.name === "label" ? -1 : b.name === "label" ? 1 : 0));
  const inputs = new Map();
  const rows = fields.map((field) => {
    const id = `field-${node.id}-${field.name}`;
    const value = field.name in node.data ? node.data[field.name] : field.default;
    let input;
    let suggestions = null;
    if (field.widget === "select") {
      input = el("select", { id, class: "input" },
        field.enum.map((option) => el("option", { value: String(option), selected: option === value, text: String(option) })),
      );
    } else if (field.widget === "checkbox") {
      input = el("input", { id, type: "checkbox", checked: Boolean(value) });
    } else if (field.widget === "textarea") {
      input = el("textarea", { id, class: "input", rows: 5 });
      input.value = value ?? "";
    } else {
      const numeric = field.widget === "number" || field.widget === "integer";
      input = el("input", {
        id,
        class: "input",
        type: "text",
        inputmode: numeric ? "decimal" : null,
        placeholder: numeric && field.minimum !== undefined ? `${field.minimum} – ${field.maximum ?? "…"}` : null,
      });
      input.value = value ?? "";
      if (field.examples.length) {
        // Known values (model names) as suggestions; any other value can still be typed.
        input.setAttribute("list", `${id}-examples`);
        input.setAttribute("autocomplete", "off");
        suggestions = el("datalist", { id: `${id}-examples` }, field.examples.map((example) => el("option", { value: String(example) })));
      }
    }
    input.name = field.name;
    const message = el("div", { class: "field__error", id: `${id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", `${id}-error`);
    const read = () => {
      if (field.widget === "select") {
        const option = field.enum.find((candidate) => String(candidate) === input.value);
        return option === undefined ? input.value : option;
      }
      return parseInput(field, field.widget === "checkbox" ? input.checked : input.value);
    };
    input.addEventListener("input", () => onInput(field.name, read()));
    input.addEventListener("change", () => onCommit());
    inputs.set(field.name, { input, message });
    return el("div", { class: "field", dataset: { field: field.name } },
      el("label", { for: id, text: field.title }),
      input,
      suggestions,
      field.description ? el("div", { class: "field__help", text: field.description }) : null,
      message,
    );
  });
  container.replaceChildren(...rows);
  showFieldErrors(inputs, errors);
  return { update: (nextErrors) => showFieldErrors(inputs, nextErrors) };
}

function showFieldErrors(inputs, errors = {}) {
  for (const [name, { input, message }] of inputs) {
    const text = errors[name] || "";
    message.textContent = text;
    input.classList.toggle("is-invalid", Boolean(text));
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }
}
