// The selected node's settings as a form built from its kind's dataSchema.

import { chainWidget } from "./chain.js";
import { codeBox } from "./codebox.js";
import { fieldsFor, jsonText, newRowItem, parseInput, parseJsonText, rowErrors, rowItem } from "./schema.js";
import { el } from "./ui.js";

// Builds the form into `container`; onInput(name, value) on every edit, onCommit() when a field is left.
// `skip` names fields another control edits (an Image node's upload); `custom` maps a field name to a function
// that builds its widget instead ({id, field, value, emit, onCommit} -> {element, show(errors)}), in its place.
// `models` are the names a model chain offers (any other can be typed); `failedLine` is the line of the node's
// code its last run failed at, marked in its code boxes.
export function renderNodeForm(container, { node, kind, errors, onInput, onCommit, skip = [], custom = {}, models = [], failedLine = null }) {
  const fields = fieldsFor(kind.dataSchema).filter((field) => !skip.includes(field.name));
  // The label first: it names the node on the canvas.
  fields.sort((a, b) => (a.name === "label" ? -1 : b.name === "label" ? 1 : 0));
  const widgets = fields.map((field) => {
    const id = `field-${node.id}-${field.name}`;
    const value = field.name in node.data ? node.data[field.name] : field.default;
    const emit = (next) => onInput(field.name, next);
    if (custom[field.name]) return custom[field.name]({ id, field, value, emit, onCommit });
    if (field.widget === "rows") return rowsWidget({ id, field, value, emit, onCommit });
    // A page that offers no tool cards (a "tools" field) shows the list as JSON.
    if (field.widget === "json" || field.widget === "tools") return jsonWidget({ id, field, value, emit, onCommit });
    if (field.widget === "chain") return chainWidget({ id, field, value, suggestions: models, emit, onCommit, fieldBox });
    return simpleWidget({ id, field, value, emit, onCommit, failedLine });
  });
  container.replaceChildren(...widgets.map((widget) => widget.element));
  const show = (next = {}) => widgets.forEach((widget) => widget.show(next));
  show(errors);
  return { update: show };
}

// One field: its label, the control, its help and its error message. `show(errors)` marks it.
function fieldBox(id, field, control, extra = null) {
  const message = el("div", { class: "field__error", id: `${id}-error`, role: "alert" });
  const element = el("div", { class: "field", dataset: { field: field.name } },
    field.widget === "rows" || field.widget === "chain" ? el("span", { class: "field__label", id: `${id}-label`, text: field.title }) : el("label", { for: id, text: field.title }),
    control,
    extra,
    field.description ? el("div", { class: "field__help", text: field.description }) : null,
    message,
  );
  return { element, message };
}

function markInvalid(input, text) {
  input.classList.toggle("is-invalid", Boolean(text));
  input.setAttribute("aria-invalid", text ? "true" : "false");
}

// A text input, a number, a select, a checkbox or a textarea: one value per control.
function simpleControl(id, field, value) {
  if (field.widget === "select") {
    // A stored value that is not a choice (an imported graph) is shown as it is, and marked by the checks.
    const options = value === undefined || field.enum.includes(value) ? field.enum : [...field.enum, value];
    return el("select", { id, class: "input" },
      options.map((option) => el("option", { value: String(option), selected: option === value, text: String(option) })),
    );
  }
  if (field.widget === "checkbox") return el("input", { id, type: "checkbox", checked: Boolean(value) });
  if (field.widget === "textarea" || field.widget === "code") {
    const code = field.widget === "code";
    const area = el("textarea", { id, class: code ? "input input--code" : "input", rows: code ? 12 : 5, spellcheck: code ? "false" : null });
    area.value = value ?? "";
    return area;
  }
  const numeric = field.widget === "number" || field.widget === "integer";
  const input = el("input", {
    id,
    class: "input",
    type: "text",
    inputmode: numeric ? "decimal" : null,
    placeholder: numeric && field.minimum !== undefined ? `${field.minimum} – ${field.maximum ?? "…"}` : null,
  });
  input.value = value ?? "";
  return input;
}

// What a simple control holds, as the value to store.
function readControl(field, input) {
  if (field.widget === "select") {
    const option = field.enum.find((candidate) => String(candidate) === input.value);
    return option === undefined ? input.value : option;
  }
  return parseInput(field, field.widget === "checkbox" ? input.checked : input.value);
}

function simpleWidget({ id, field, value, emit, onCommit, failedLine }) {
  const input = simpleControl(id, field, value);
  input.name = field.name;
  let suggestions = null;
  if (input.tagName === "INPUT" && input.type === "text" && field.examples.length) {
    // Known values (model names) as suggestions; any other value can still be typed.
    input.setAttribute("list", `${id}-examples`);
    input.setAttribute("autocomplete", "off");
    suggestions = el("datalist", { id: `${id}-examples` }, field.examples.map((example) => el("option", { value: String(example) })));
  }
  input.setAttribute("aria-describedby", `${id}-error`);
  input.addEventListener("input", () => emit(readControl(field, input)));
  input.addEventListener("change", () => onCommit());
  const control = field.widget === "code" ? codeBox(input, { failedLine }) : input;
  const { element, message } = fieldBox(id, field, control, suggestions);
  return {
    element,
    show(errors) {
      const text = errors[field.name] || "";
      message.textContent = text;
      markInvalid(input, text);
    },
  };
}

// An object or list as JSON text. What does not parse (or is not of the field's type) is said under it and
// not stored: the node keeps its last good value. Empty text stores null where the field allows it.
export function jsonWidget({ id, field, value, emit, onCommit }) {
  const area = el("textarea", { id, class: "input", rows: 6, spellcheck: "false", name: field.name, placeholder: field.nullable ? "Empty: none" : "" });
  area.value = jsonText(value);
  area.setAttribute("aria-describedby", `${id}-error`);
  let parseError = "";
  let shown = {};
  const { element, message } = fieldBox(id, field, area);
  const show = (errors) => {
    shown = errors;
    const text = parseError || errors[field.name] || "";
    message.textContent = text;
    markInvalid(area, text);
  };
  area.addEventListener("input", () => {
    const parsed = parseJsonText(field, area.value);
    parseError = parsed.error ? `${parsed.error} (the last valid value is kept)` : "";
    if (parsed.error) show(shown);
    else emit(parsed.value);
  });
  area.addEventListener("change", () => onCommit());
  return { element, show };
}

// A list of objects as rows, one control per property of an item, with a button to add a row and one to
// remove each. Every change stores the whole list.
function rowsWidget({ id, field, value, emit, onCommit }) {
  const itemTitle = (field.itemTitle || "item").toLowerCase();
  const list = el("div", { class: "rows", id, role: "group", "aria-labelledby": `${id}-label` });
  let shown = {};
  let made = 0; // row ids stay unique as rows come and go
  const rows = [];
  const read = () => rows.map((row) => row.read());
  const changed = () => emit(read());
  const renumber = () =>
    rows.forEach((row, index) => {
      row.element.dataset.index = String(index);
      row.remove.setAttribute("aria-label", `Remove ${itemTitle} ${index + 1}`);
    });
  const addRow = (item) => {
    const row = rowElement(`${id}-${made++}`, field, item || {}, {
      onInput: changed,
      onCommit,
      onRemove: () => {
        rows.splice(rows.indexOf(row), 1);
        row.element.remove();
        renumber();
        changed();
        onCommit();
        show(shown);
      },
    });
    rows.push(row);
    list.append(row.element);
    renumber();
  };
  (Array.isArray(value) ? value : []).forEach((item) => addRow(item));
  const add = el("button", {
    type: "button",
    class: "button button--small rows__add",
    text: `Add ${itemTitle}`,
    onclick: () => {
      addRow(newRowItem(field.itemFields));
      changed();
      onCommit();
      rows.at(-1).focus();
    },
  });
  const { element, message } = fieldBox(id, field, list, add);
  const show = (errors) => {
    shown = errors;
    message.textContent = errors[field.name] || "";
    rows.forEach((row, index) => row.show(rowErrors(errors, field.name, index)));
  };
  return { element, show };
}

// One row of a rows field: a labelled control per item property and a remove button.
function rowElement(id, field, item, { onInput, onCommit, onRemove }) {
  const controls = field.itemFields.map((itemField) => {
    const value = itemField.name in item ? item[itemField.name] : itemField.default;
    const controlId = `${id}-${itemField.name}`;
    const shownValue = typeof value === "object" && value !== null ? JSON.stringify(value) : value;
    const input = simpleControl(controlId, itemField, shownValue);
    input.name = itemField.name;
    input.title = itemField.description || itemField.title;
    input.addEventListener("input", onInput);
    input.addEventListener("change", () => onCommit());
    const cell = el("div", { class: `rows__cell rows__cell--${itemField.widget}` },
      el("label", { class: "rows__title", for: controlId, text: itemField.title }),
      input,
    );
    return { itemField, input, cell };
  });
  const message = el("div", { class: "field__error rows__error", role: "alert" });
  const remove = el("button", { type: "button", class: "button button--small button--ghost rows__remove", text: "×", onclick: onRemove });
  const element = el("div", { class: "rows__row" }, ...controls.map((control) => control.cell), remove, message);
  return {
    element,
    remove,
    focus: () => controls[0] && controls[0].input.focus(),
    read: () =>
      rowItem(field.itemFields, Object.fromEntries(controls.map(({ itemField, input }) => [
        itemField.name,
        itemField.widget === "select" ? readControl(itemField, input) : itemField.widget === "checkbox" ? input.checked : input.value,
      ]))),
    show(errors) {
      const lines = [];
      for (const { itemField, input } of controls) {
        const text = errors[itemField.name] || "";
        markInvalid(input, text);
        if (text) lines.push(`${itemField.title}: ${text}`);
      }
      if (errors[""]) lines.unshift(errors[""]);
      message.textContent = lines.join("; ");
    },
  };
}

// A select whose choices are known only at run time ([{value, label}], values of any JSON type: a workflow id,
// a version number or null). A stored value that is not a choice is shown as `missingLabel(value)` and marked
// by the checks. `setChoices` replaces the choices in place (they arrived from the server), keeping the value.
export function choiceWidget({ id, field, value, choices, emit, onCommit, missingLabel = (missing) => String(missing) }) {
  const select = el("select", { id, class: "input", name: field.name });
  select.setAttribute("aria-describedby", `${id}-error`);
  let current = choices;
  let shown = []; // the values of the options, by index (an option's value attribute is its index)
  let held = value === undefined ? null : value;
  const fill = () => {
    const listed = current.some((choice) => choice.value === held);
    const options = listed ? current : [...current, { value: held, label: missingLabel(held) }];
    shown = options.map((choice) => choice.value);
    select.replaceChildren(...options.map((choice, index) =>
      el("option", { value: String(index), selected: choice.value === held, text: choice.label })));
  };
  fill();
  select.addEventListener("change", () => {
    held = shown[Number(select.value)];
    emit(held);
    onCommit();
  });
  const { element, message } = fieldBox(id, field, select);
  return {
    element,
    select,
    setChoices(next) {
      current = next;
      fill();
    },
    show(errors) {
      const text = errors[field.name] || "";
      message.textContent = text;
      markInvalid(select, text);
    },
  };
}
