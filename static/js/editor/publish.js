// Publishing and the API tab: which saved version integrations run ("Published: v3 (editing v5)"), and a
// ready curl call of it.

import { ApiError, api } from "../api.js";
import { el, toast } from "../ui.js";
import { renderMcpTool } from "./mcptool.js";
import { isDirty, publishedLabel } from "./model.js";
import { applyServerErrors } from "./servererrors.js";

function exampleValue(input) {
  if (input.default !== null && input.default !== undefined) return input.default;
  return input.type === "image" ? "<upload id or https:// URL>" : `<${input.name}>`;
}

// The curl command that runs the published version and waits for its outputs.
export function curlExample(origin, workflowId, inputs) {
  const body = { inputs: Object.fromEntries(inputs.map((input) => [input.name, exampleValue(input)])), wait: 30 };
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  return [
    `curl -X POST '${origin}/api/workflows/${workflowId}/runs' \\`,
    `  -H "Authorization: Bearer $WEFT_TOKEN" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${json}'`,
  ].join("\n");
}

// What GET /api/workflows/{id} (or a publish, unpublish or save answer) says about publishing.
export function loadPublished(state, workflow) {
  state.publishedVersion = workflow.publishedVersion ?? null;
  state.published = workflow.published ?? null;
}

async function changePublished(editor, action) {
  const { state, boot } = editor;
  if (state.publishing) return;
  if (action === "publish" && isDirty(state)) {
    toast("Save first: publishing pins a saved version.", "error");
    return;
  }
  state.publishing = true;
  try {
    const answer = action === "publish" ? await api.publishWorkflow(boot.id) : await api.unpublishWorkflow(boot.id);
    loadPublished(state, answer);
    toast(action === "publish" ? `Published version ${answer.publishedVersion}.` : "Unpublished.", "success", 3000);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // A version that cannot run is refused with its graph's problems: mark them on the canvas.
    if (error.status === 400 && error.fieldErrors.length) applyServerErrors(editor, error);
    else toast(`Could not ${action}: ${error.message}`, "error");
  } finally {
    state.publishing = false;
  }
  renderApiPanel(editor);
  editor.refresh();
}

async function copyCommand(command) {
  try {
    await navigator.clipboard.writeText(command);
    toast("Copied.", "success", 2000);
  } catch {
    toast("Could not copy; select the text instead.", "error");
  }
}

// Input and Output nodes define the interface; without them a caller sends nothing or gets `"outputs": {}`.
function interfaceHint(published) {
  const missing = [];
  if (!published.inputs.length) missing.push("no Input nodes, so a call sends no inputs");
  if (!published.outputs.length) missing.push('no Output nodes, so a call answers "outputs": {}');
  if (!missing.length) return null;
  return el("p", { id: "api-interface-hint", class: "hint" },
    `The published version has ${missing.join(", and ")}. Add Input and Output nodes to the graph (each names a field of the call), then save and publish.`);
}

// The API tab: publish or unpublish, and once published, the curl example, the published interface and the
// MCP tool settings.
export function renderApiPanel(editor, { origin = window.location.origin } = {}) {
  const { state, boot } = editor;
  const container = editor.dom("api-panel");
  const published = state.published;
  // Publishing the version already published would change nothing: the button is offered for another one.
  const publishable = state.publishedVersion !== state.version;
  const rows = [
    el("p", { id: "api-published-state", text: publishedLabel(state.publishedVersion, state.version) }),
    el("div", { class: "dialog__actions" },
      publishable ? el("button", { id: "api-publish", type: "button", class: "button button--primary", text: `Publish v${state.version}`, onclick: () => changePublished(editor, "publish") }) : null,
      published ? el("button", { id: "api-unpublish", type: "button", class: "button", text: "Unpublish", onclick: () => changePublished(editor, "unpublish") }) : null,
    ),
  ];
  if (!published) {
    rows.push(el("p", { class: "muted", text: "Publish a version to run it from other programs: the API, webhooks and schedules run the published version, so editing here changes nothing they run until you publish again." }));
    container.replaceChildren(...rows);
    return;
  }
  const command = curlExample(origin, boot.id, published.inputs);
  rows.push(
    el("h3", { text: "Run it with curl" }),
    el("p", { class: "muted" }, "Set WEFT_TOKEN to an API token (",
      el("a", { href: "/settings/tokens/", text: "create one" }), "). The answer has the run's outputs when it ends within 30 s."),
    el("pre", { id: "api-curl", class: "output", text: command }),
    el("button", { id: "api-copy", type: "button", class: "button", text: "Copy", onclick: () => copyCommand(command) }),
    el("h3", { text: "Interface" }),
    el("ul", { class: "interface" },
      ...published.inputs.map((input) => el("li", { text: `input ${input.name}: ${input.type}${input.required ? "" : " (optional)"}` })),
      ...published.outputs.map((output) => el("li", { text: `output ${output.name}` })),
    ),
    interfaceHint(published),
  );
  const mcpSection = el("div", { id: "api-mcp" });
  rows.push(mcpSection);
  container.replaceChildren(...rows);
  renderMcpTool(mcpSection, boot.id, origin);
}
