// An Agent's tools in the editor (a "tools" field): a card per tool with its name, description, type, whether a
// person approves each call, and what its type picks (a workflow of yours; an MCP connection and one of its
// server's tools). The whole list stays editable as JSON below the cards, where the settings a type borrows
// from a node kind (an HTTP request's, a Code node's) are written. Each edit stores the whole list.

import { workflowChoices } from "../callees.js";
import { jsonWidget } from "../form.js";
import { fieldsFor, jsonText, rowErrors } from "../schema.js";
import { el } from "../ui.js";
import { connectionTools, mcpConnections } from "./mcppicker.js";

// The widget of each "tools" field of the kind, for renderNodeForm's `custom`.
export function agentToolsWidgets(editor, kind) {
  const fields = fieldsFor(kind.dataSchema).filter((field) => field.widget === "tools");
  return Object.fromEntries(fields.map((field) => [field.name, (props) => toolsWidget(editor, props)]));
}

// The tool a type change leaves: what every tool has, without the settings of its former type.
export function retypedTool(tool, type) {
  const kept = ["name", "description", "requiresApproval", "approvalTimeoutSeconds", "onTimeout"];
  return { ...Object.fromEntries(kept.filter((key) => key in tool).map((key) => [key, tool[key]])), type };
}

// A name no tool of the list has yet: tool_1, tool_2…
export function newToolName(tools) {
  const taken = new Set(tools.map((tool) => tool && tool.name));
  let n = tools.length + 1;
  while (taken.has(`tool_${n}`)) n += 1;
  return `tool_${n}`;
}

function toolsWidget(editor, { id, field, value, emit, onCommit }) {
  let tools = Array.isArray(value) ? value.map((tool) => (tool && typeof tool === "object" ? { ...tool } : tool)) : [];
  let shown = {};
  const cards = el("div", { class: "agent-tools", id: `${id}-cards`, role: "group", "aria-label": field.title });
  const json = jsonWidget({
    id,
    field: { ...field, title: `${field.title} as JSON` },
    value,
    emit: (next) => {
      tools = Array.isArray(next) ? next : [];
      emit(next);
      renderCards();
    },
    onCommit,
  });
  const area = json.element.querySelector("textarea");
  const store = ({ redraw = false, commit = true } = {}) => {
    emit(tools);
    area.value = jsonText(tools);
    if (redraw) renderCards();
    if (commit) onCommit();
  };
  // `update(tool)` answers the tool's next value from its latest one (another control may have changed it).
  const change = (index, update, options) => {
    tools = tools.map((tool, at) => (at === index ? update(tool && typeof tool === "object" ? tool : {}) : tool));
    store(options);
  };
  const renderCards = () => {
    cards.replaceChildren(...tools.map((tool, index) => toolCard(editor, `${id}-${index}`, field, tool, {
      change: (update, options) => change(index, update, options),
      remove: () => {
        tools = tools.filter((_, at) => at !== index);
        store({ redraw: true });
      },
    })));
    showCards();
  };
  const showCards = () => [...cards.children].forEach((card, index) => {
    const found = rowErrors(shown, field.name, index);
    card.querySelector(".field__error").textContent = Object.entries(found)
      .map(([path, message]) => (path ? `${path}: ${message}` : message)).join("; ");
  });
  const add = el("button", {
    type: "button",
    class: "button button--small agent-tools__add",
    text: "Add tool",
    onclick: () => {
      const type = field.toolTypes.length ? field.toolTypes[0].value : "";
      tools = [...tools, { name: newToolName(tools), description: "", type }];
      store({ redraw: true });
      cards.lastElementChild.querySelector("input").focus();
    },
  });
  renderCards();
  const element = el("div", { class: "field agent-tools-field", dataset: { field: field.name } },
    el("span", { class: "field__label", text: field.title }), cards, add, json.element);
  return {
    element,
    show(errors) {
      shown = errors;
      json.show(errors);
      showCards();
    },
  };
}

function labelled(id, title, control) {
  control.id = id;
  return el("div", { class: "agent-tool__cell" }, el("label", { for: id, text: title }), control);
}

function textInput(value, onInput, onChange) {
  const input = el("input", { class: "input", type: "text", autocomplete: "off" });
  input.value = value ?? "";
  input.addEventListener("input", () => onInput(input.value));
  input.addEventListener("change", () => onChange());
  return input;
}

// A select of {value, label} choices (values of any JSON type); `setChoices` replaces them once they arrive.
function select(choices, value, onChange) {
  const control = el("select", { class: "input" });
  let options = [];
  const fill = (next) => {
    const listed = next.some((choice) => choice.value === value);
    options = listed || value === undefined || value === null || value === "" ? next : [...next, { value, label: String(value) }];
    control.replaceChildren(...options.map((choice, index) =>
      el("option", { value: String(index), selected: choice.value === value, text: choice.label })));
  };
  fill(choices);
  control.addEventListener("change", () => onChange(options[Number(control.value)].value));
  return { control, setChoices: fill };
}

function toolCard(editor, id, field, tool, { change, remove }) {
  const current = tool && typeof tool === "object" ? tool : {};
  const typeChoice = field.toolTypes.find((choice) => choice.value === current.type);
  const typed = (key) => textInput(current[key], (text) => change((latest) => ({ ...latest, [key]: text }), { commit: false }), () => change((latest) => latest));
  const type = select(field.toolTypes.map((choice) => ({ value: choice.value, label: choice.label })), current.type,
    (next) => change((latest) => retypedTool(latest, next), { redraw: true }));
  const approval = el("input", { type: "checkbox", id: `${id}-approval`, checked: current.requiresApproval === true });
  approval.addEventListener("change", () => change((latest) => {
    const next = { ...latest };
    if (approval.checked) next.requiresApproval = true;
    else delete next.requiresApproval;
    return next;
  }));
  return el("div", { class: "agent-tool", dataset: { type: current.type || "" } },
    el("div", { class: "agent-tool__row" },
      labelled(`${id}-name`, "Name", typed("name")),
      labelled(`${id}-type`, "Type", type.control),
      el("button", { type: "button", class: "button button--small button--ghost agent-tool__remove", text: "×", "aria-label": `Remove tool ${current.name || ""}`.trim(), onclick: remove })),
    labelled(`${id}-description`, "Description (the model reads it)", typed("description")),
    ...typeControls(editor, id, typeChoice, current, change),
    el("label", { class: "agent-tool__approval", for: approval.id }, approval, " A person approves each call"),
    el("div", { class: "field__error", role: "alert" }),
  );
}

// What the tool's type picks, or where its borrowed settings are written.
function typeControls(editor, id, choice, tool, change) {
  if (!choice) return [];
  if (choice.picker === "workflow") {
    const workflows = editor.state.workflows || [];
    const workflow = select([{ value: null, label: editor.state.workflows ? "Choose a workflow…" : "Loading your workflows…" },
      ...workflowChoices(workflows, editor.boot.id)], tool.workflowId ?? null,
    (workflowId) => change((latest) => {
      const next = { ...latest, workflowId, version: null };
      delete next.callee; // the server resolves the new one
      return next;
    }));
    return [labelled(`${id}-workflow`, "Workflow to run", workflow.control)];
  }
  if (choice.picker === "mcp") {
    const slug = tool.connection || "";
    const connection = select([{ value: "", label: "Loading your MCP connections…" }], slug,
      (next) => change((latest) => ({ ...latest, connection: next, tool: "" }), { redraw: true }));
    const picked = select([{ value: "", label: slug ? "Loading the tools…" : "Choose a connection first" }], tool.tool || "",
      (next) => change((latest) => ({ ...latest, tool: next })));
    mcpConnections(editor).then(
      (connections) => connection.setChoices([{ value: "", label: connections.length ? "Choose an MCP connection…" : "No MCP connections yet" },
        ...connections.map((listed) => ({ value: listed.slug, label: `${listed.name} (${listed.slug})` }))]),
      () => connection.setChoices([{ value: "", label: "Could not list your connections" }]),
    );
    connectionTools(editor, slug).then((listed) => picked.setChoices([
      { value: "", label: listed.error ? `Could not list the tools: ${listed.error}` : slug ? "Choose a tool…" : "Choose a connection first" },
      ...(listed.tools || []).map((offered) => ({ value: offered.name, label: offered.name })),
    ]));
    return [labelled(`${id}-connection`, "MCP connection", connection.control), labelled(`${id}-tool`, "MCP tool", picked.control)];
  }
  return [el("p", { class: "muted agent-tool__borrowed", text: `Its ${choice.label} settings are written in the JSON below.` })];
}
