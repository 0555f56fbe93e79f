// A chain of names edited in order (a node's model chain): one text input per entry, each offering the
// suggestions it is given (the models GET /api/models lists) and accepting any other name; entries can be
// added, moved up and removed. Every change stores the whole list.

import { el } from "./ui.js";

const options = (names) => names.map((name) => el("option", { value: name }));

// The model names arrive after the editor opens: a chain drawn before then is offered them when they do.
export function offerModels(names) {
  for (const datalist of document.querySelectorAll("datalist[data-models]")) datalist.replaceChildren(...options(names));
}

export function chainWidget({ id, field, value, suggestions, emit, onCommit, fieldBox }) {
  const listId = `${id}-suggestions`;
  const datalist = el("datalist", { id: listId, dataset: { models: "" } }, options(suggestions || []));
  const list = el("ol", { class: "chain", id, "aria-labelledby": `${id}-label` });
  const entries = [];
  const read = () => entries.map((entry) => entry.input.value.trim()).filter(Boolean);
  const changed = () => emit(read());
  const redraw = () => {
    list.replaceChildren(...entries.map((entry) => entry.element));
    entries.forEach((entry, index) => {
      entry.input.setAttribute("aria-label", `${field.title} ${index + 1}`);
      entry.up.setAttribute("aria-label", `Move ${field.title.toLowerCase()} ${index + 1} up`);
      entry.remove.setAttribute("aria-label", `Remove ${field.title.toLowerCase()} ${index + 1}`);
      entry.up.disabled = index === 0;
    });
  };
  const commitChange = () => {
    redraw();
    changed();
    onCommit();
  };
  const addEntry = (name) => {
    const input = el("input", { class: "input", type: "text", list: listId, autocomplete: "off", spellcheck: "false" });
    input.value = name;
    input.placeholder = "connection/model";
    input.addEventListener("input", changed);
    input.addEventListener("change", () => onCommit());
    const entry = { input };
    entry.up = el("button", {
      type: "button", class: "button button--small button--ghost", text: "↑", title: "Try earlier",
      onclick: () => {
        const index = entries.indexOf(entry);
        entries.splice(index - 1, 0, ...entries.splice(index, 1));
        commitChange();
      },
    });
    entry.remove = el("button", {
      type: "button", class: "button button--small button--ghost", text: "×", title: "Remove",
      onclick: () => {
        entries.splice(entries.indexOf(entry), 1);
        commitChange();
      },
    });
    entry.element = el("li", { class: "chain__entry" }, input, entry.up, entry.remove);
    entries.push(entry);
    return entry;
  };
  (Array.isArray(value) ? value : []).forEach((name) => addEntry(String(name)));
  redraw();
  const add = el("button", {
    type: "button",
    class: "button button--small chain__add",
    text: "Add model",
    onclick: () => {
      const entry = addEntry("");
      redraw();
      entry.input.focus();
    },
  });
  const { element, message } = fieldBox(id, field, el("div", {}, list, datalist), add);
  return {
    element,
    show(errors) {
      const lines = [errors[field.name], ...entries.map((_, index) => errors[`${field.name}[${index}]`])].filter(Boolean);
      message.textContent = lines.join("; ");
    },
  };
}
