// Publishing and the API tab: which version integrations run, and a ready curl call of it.

import { api } from "./api.js";
import { el, toast } from "./ui.js";

// "Published: v3 (editing v5)", or what to do when nothing is published.
export function publishedLabel(publishedVersion, editingVersion) {
  if (!publishedVersion) return "Not published";
  if (publishedVersion === editingVersion) return `Published: v${publishedVersion}`;
  return `Published: v${publishedVersion} (editing v${editingVersion})`;
}

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

// The API tab. `workflow()` returns the editor's latest workflow payload (with `published`), `isDirty()`
// whether there are unsaved edits; `onChange(workflow)` receives the answer of publish/unpublish.
export function apiPanel(container, { workflowId, workflow, isDirty, onChange, origin = window.location.origin }) {
  let busy = false;

  async function change(action) {
    if (busy) return;
    if (action === "publish" && isDirty()) {
      toast("Save first: publishing pins a saved version.", "error");
      return;
    }
    busy = true;
    try {
      const answer = action === "publish" ? await api.publishWorkflow(workflowId) : await api.unpublishWorkflow(workflowId);
      onChange(answer);
      toast(action === "publish" ? `Published version ${answer.publishedVersion}.` : "Unpublished.", "success", 3000);
    } catch (error) {
      toast(`Could not ${action}: ${error.message}`, "error");
      if (error.fieldErrors && error.fieldErrors.length) onChange(null, error);
    } finally {
      busy = false;
    }
  }

  function render() {
    const current = workflow();
    const published = current.published;
    const rows = [
      el("p", { id: "api-published-state", text: publishedLabel(current.publishedVersion, current.version) }),
      el("div", { class: "dialog__actions" },
        el("button", { id: "api-publish", type: "button", class: "button button--primary", text: `Publish v${current.version}`, onclick: () => change("publish") }),
        published ? el("button", { id: "api-unpublish", type: "button", class: "button", text: "Unpublish", onclick: () => change("unpublish") }) : null,
      ),
    ];
    if (!published) {
      rows.push(el("p", { class: "muted", text: "Publish a version to run it from other programs: the API, webhooks and schedules run the published version, so editing here changes nothing they run until you publish again." }));
      container.replaceChildren(...rows);
      return;
    }
    const command = curlExample(origin, workflowId, published.inputs);
    const code = el("pre", { id: "api-curl", class: "output", text: command });
    rows.push(
      el("h3", { text: "Run it with curl" }),
      el("p", { class: "muted" }, "Set WEFT_TOKEN to an API token (",
        el("a", { href: "/settings/tokens/", text: "create one" }), "). The answer has the run's outputs when it ends within 30 s."),
      code,
      el("button", {
        id: "api-copy",
        type: "button",
        class: "button",
        text: "Copy",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(command);
            toast("Copied.", "success", 2000);
          } catch {
            toast("Could not copy; select the text instead.", "error");
          }
        },
      }),
      el("h3", { text: "Interface" }),
      el("ul", { class: "interface" },
        ...published.inputs.map((input) => el("li", { text: `input ${input.name}: ${input.type}${input.required ? "" : " (optional)"}` })),
        ...published.outputs.map((output) => el("li", { text: `output ${output.name}` })),
      ),
    );
    container.replaceChildren(...rows);
  }

  return { render };
}
