// MCP Tool nodes in the editor (kinds with a `toolSource`): the user's MCP connections and their servers'
// tools to pick from (with a refresh), and one row per argument built from the picked tool's inputSchema.

import { api } from "../api.js";
import { choiceWidget, jsonWidget } from "../form.js";
import { findNode, updateNodeData } from "../graph.js";
import { el } from "../ui.js";
import { edit } from "./edits.js";

// The user's MCP connections, fetched once per editor.
export function mcpConnections(editor) {
  editor.mcpConnections ||= api.listConnections().then((page) => page.results.filter((connection) => connection.kind === "mcp"));
  return editor.mcpConnections;
}

// A connection's tools ({tools} or {error}), fetched once per editor unless `refresh` asks the server again.
function toolsOf(editor, connectionId, refresh = false) {
  editor.mcpTools ||= new Map();
  if (refresh || !editor.mcpTools.has(connectionId)) {
    const answer = api.listConnectionTools(connectionId, refresh)
      .then((listed) => ({ tools: listed.tools }))
      .catch((error) => ({ error: error.message }));
    editor.mcpTools.set(connectionId, answer);
  }
  return editor.mcpTools.get(connectionId);
}

// The tools of the node's connection ({tools} or {error}); no connection chosen or known: no tools.
export async function connectionTools(editor, slug, refresh = false) {
  if (!slug) return { tools: [] };
  let connections;
  try {
    connections = await mcpConnections(editor);
  } catch (error) {
    editor.mcpConnections = null; // asked again next time
    return { error: `could not list your connections: ${error.message}` };
  }
  const connection = connections.find((candidate) => candidate.slug === slug);
  if (!connection) return { error: `you have no MCP connection named ${slug}` };
  return toolsOf(editor, connection.id, refresh);
}

// "string", "integer", "string | null", "one of: a, b": what a property of an inputSchema takes.
export function argumentType(property) {
  if (Array.isArray(property.enum)) return `one of: ${property.enum.map((choice) => JSON.stringify(choice)).join(", ")}`;
  if (Array.isArray(property.type)) return property.type.join(" | ");
  if (property.type) return property.type;
  const options = property.anyOf || property.oneOf;
  if (Array.isArray(options)) return options.map(argumentType).join(" | ");
  return "any";
}

// What a row's text stores: text as it is for a string argument (placeholders included), else its JSON value
// when it parses (`2`, `true`, `[1, 2]`), else the text (a `{{placeholder}}` filled at run time). Empty: none.
export function argumentValue(property, text) {
  if (text === "") return undefined;
  if (argumentType(property) === "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function argumentText(value) {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// The node's data once `tool` is picked: arguments the tool does not take go, the reuse flag follows the
// tool's annotations (idempotent or read-only).
export function pickedToolData(data, fields, tool) {
  const properties = (tool && tool.inputSchema && tool.inputSchema.properties) || {};
  const kept = Object.entries(data[fields.arguments] || {}).filter(([name]) => name in properties);
  const hints = (tool && tool.annotations) || {};
  return {
    ...data,
    [fields.tool]: tool ? tool.name : "",
    [fields.arguments]: Object.fromEntries(kept),
    [fields.reusable]: Boolean(hints.idempotentHint || hints.readOnlyHint),
  };
}

function setData(editor, nodeId, change) {
  const { state } = editor;
  const node = findNode(state.graph, nodeId);
  if (!node) return;
  delete state.serverErrors[nodeId];
  edit(editor, updateNodeData(state.graph, nodeId, change(node.data), state.catalog), { panel: true });
}

// One labelled text box per argument of the tool's inputSchema (required ones marked, their type and
// description shown), then any stored argument the schema does not name. Every edit stores the whole object.
function argumentRows({ id, field, value, emit, onCommit }, schema) {
  const properties = schema.properties || {};
  const required = new Set(schema.required || []);
  const current = { ...(value || {}) };
  const names = [...Object.keys(properties), ...Object.keys(current).filter((name) => !(name in properties))];
  const errors = new Map();
  const rows = names.map((name, index) => {
    const property = properties[name] || {};
    const rowId = `${id}-${index}`;
    const input = el("input", { id: rowId, class: "input", type: "text", name, autocomplete: "off" });
    input.value = argumentText(current[name]);
    if (property.default !== undefined) input.placeholder = `default ${JSON.stringify(property.default)}`;
    input.addEventListener("input", () => {
      const next = argumentValue(property, input.value);
      if (next === undefined) delete current[name];
      else current[name] = next;
      emit({ ...current });
    });
    input.addEventListener("change", () => onCommit());
    const message = el("div", { class: "field__error", role: "alert" });
    errors.set(name, { input, message });
    return el("div", { class: "mcp-argument", dataset: { argument: name } },
      el("label", { for: rowId },
        el("code", { text: name }),
        required.has(name) ? el("span", { class: "mcp-argument__required", title: "required", text: " *" }) : null,
        el("span", { class: "muted mcp-argument__type", text: ` ${name in properties ? argumentType(property) : "not in the tool's schema"}` }),
      ),
      input,
      property.description ? el("div", { class: "field__help", text: property.description }) : null,
      message,
    );
  });
  const message = el("div", { class: "field__error", id: `${id}-error`, role: "alert" });
  const element = el("div", { class: "field", dataset: { field: field.name } },
    el("span", { class: "field__label", text: field.title }),
    rows.length ? el("div", { class: "mcp-arguments", id, role: "group" }, rows) : el("p", { class: "muted", text: "The tool takes no arguments." }),
    el("div", { class: "field__help", text: "* required. Text may hold {{name}} placeholders, each an input port; a value that is exactly one placeholder passes that input's value as it is." }),
    message,
  );
  return {
    element,
    show(shown) {
      message.textContent = shown[field.name] || "";
      for (const [name, row] of errors) {
        const text = shown[`${field.name}.${name}`] || "";
        row.message.textContent = text;
        row.input.classList.toggle("is-invalid", Boolean(text));
      }
    },
  };
}

// A widget whose content comes later: `fill(props)` answers the real widget once the tools are known.
function lateWidget(props, fill) {
  const holder = el("div", { dataset: { field: props.field.name } }, el("p", { class: "muted", text: "Loading the tools…" }));
  let widget = null;
  let shown = {};
  fill().then((made) => {
    widget = made;
    holder.replaceChildren(widget.element);
    widget.show(shown);
  });
  return {
    element: holder,
    show(errors) {
      shown = errors;
      if (widget) widget.show(errors);
    },
  };
}

// The widgets an MCP Tool node's form uses for its connection, tool and arguments.
export function toolWidgets(editor, node, fields) {
  const slug = node.data[fields.connection] || "";
  const toolName = node.data[fields.tool] || "";
  const answer = () => connectionTools(editor, slug);
  return {
    [fields.connection]: (props) => {
      const widget = choiceWidget({
        ...props,
        value: slug,
        choices: [{ value: "", label: "Loading your MCP connections…" }],
        missingLabel: (missing) => `${missing} (not found)`,
        emit: (next) => setData(editor, node.id, (data) => pickedToolData({ ...data, [fields.connection]: next }, fields, null)),
        onCommit: () => {},
      });
      mcpConnections(editor).then(
        (connections) => widget.setChoices([
          { value: "", label: connections.length ? "Choose an MCP connection…" : "No MCP connections yet (add one on Connections)" },
          ...connections.map((connection) => ({ value: connection.slug, label: `${connection.name} (${connection.slug})` })),
        ]),
        () => widget.setChoices([{ value: "", label: "Could not list your connections" }]),
      );
      return widget;
    },
    [fields.tool]: (props) => {
      let tools = [];
      const widget = choiceWidget({
        ...props,
        value: toolName,
        choices: [{ value: "", label: slug ? "Loading the tools…" : "Choose a connection first" }],
        missingLabel: (missing) => `${missing} (not offered)`,
        emit: (name) => setData(editor, node.id, (data) => pickedToolData(data, fields, tools.find((tool) => tool.name === name) || null)),
        onCommit: () => {},
      });
      const refresh = el("button", { type: "button", class: "button button--small", text: "Refresh tools", disabled: !slug });
      const status = el("div", { class: "field__help", role: "status" });
      refresh.addEventListener("click", async () => {
        refresh.disabled = true;
        await connectionTools(editor, slug, true);
        editor.refresh({ panel: true }); // the form again, with the server's current tools
      });
      answer().then((listed) => {
        tools = listed.tools || [];
        status.textContent = listed.error ? `Could not list the tools: ${listed.error}` : slug && !tools.length ? "The server offers no tools." : "";
        widget.setChoices([
          { value: "", label: slug ? "Choose a tool…" : "Choose a connection first" },
          ...tools.map((tool) => ({ value: tool.name, label: tool.description ? `${tool.name} — ${tool.description}` : tool.name })),
        ]);
      });
      widget.element.insertBefore(el("div", { class: "mcp-tool-actions" }, refresh, status), widget.element.querySelector(".field__error"));
      return widget;
    },
    [fields.arguments]: (props) =>
      lateWidget(props, async () => {
        const tool = (await answer()).tools?.find((candidate) => candidate.name === toolName);
        return tool ? argumentRows(props, tool.inputSchema || {}) : jsonWidget(props);
      }),
  };
}
