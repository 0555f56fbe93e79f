// The API tab's MCP section: offer the published workflow as a tool at /mcp (switch, name, description), and
// a client configuration ready to paste into an MCP client.

import { ApiError, api } from "../api.js";
import { el, toast } from "../ui.js";

// The configuration Claude Desktop, VS Code and most MCP clients take for an HTTP server.
export function mcpClientConfig(origin) {
  const server = { type: "http", url: `${origin}/mcp`, headers: { Authorization: "Bearer <your API token>" } };
  return JSON.stringify({ mcpServers: { weft: server } }, null, 2);
}

async function saveTool(workflowId, form, container, origin) {
  const body = {
    enabled: form.querySelector("#api-mcp-enabled").checked,
    name: form.querySelector("#api-mcp-name").value.trim(),
    description: form.querySelector("#api-mcp-description").value,
  };
  try {
    const tool = await api.putWorkflowTool(workflowId, body);
    toast(tool.enabled ? `Offered as the MCP tool ${tool.name}.` : "No longer an MCP tool.", "success", 3000);
    fillSection(container, workflowId, tool, origin);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    toast(`Could not save the MCP tool: ${error.message}`, "error");
  }
}

function fillSection(container, workflowId, tool, origin) {
  const form = el("form", { id: "api-mcp-form", class: "mcp-tool", onsubmit: (event) => {
    event.preventDefault();
    saveTool(workflowId, form, container, origin);
  } },
    el("label", {}, el("input", { id: "api-mcp-enabled", type: "checkbox", checked: tool.enabled }), " Offer as an MCP tool"),
    el("label", { for: "api-mcp-name", text: "Tool name" }),
    el("input", { id: "api-mcp-name", type: "text", value: tool.name, required: true, pattern: "[A-Za-z_][A-Za-z0-9_]*", maxlength: 64 }),
    el("label", { for: "api-mcp-description", text: "Description" }),
    el("textarea", { id: "api-mcp-description", rows: 2, maxlength: 2000 }, tool.description),
    el("div", { class: "dialog__actions" }, el("button", { id: "api-mcp-save", type: "submit", class: "button", text: "Save" })),
  );
  container.replaceChildren(
    el("h3", { text: "Use it from an MCP client" }),
    el("p", { class: "muted", text: "An enabled tool runs the published version when an MCP client calls it. Client configuration:" }),
    el("pre", { id: "api-mcp-config", class: "output", text: mcpClientConfig(origin) }),
    form,
  );
}

// Fill `container` with the workflow's MCP tool settings, as the server has them.
export async function renderMcpTool(container, workflowId, origin) {
  try {
    fillSection(container, workflowId, await api.getWorkflowTool(workflowId), origin);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    container.replaceChildren(el("p", { class: "muted", text: `MCP tool settings unavailable: ${error.message}` }));
  }
}
