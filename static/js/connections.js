// The connections page: list, add (the secret goes in once and is never shown), test and delete.

import { api } from "./api.js";
import { confirmThenDo, el, formatDate, toast } from "./ui.js";

const $ = (id) => document.getElementById(id);

function row(connection) {
  const status = el("span", { class: "connection__status", role: "status" });
  const test = async () => {
    status.textContent = "Testing…";
    try {
      const result = await api.testConnection(connection.id);
      status.textContent = result.ok ? `✓ ${result.detail}` : `✗ ${result.detail}`;
      status.className = `connection__status ${result.ok ? "ok" : "error"}`;
    } catch (error) {
      status.textContent = `✗ ${error.message}`;
      status.className = "connection__status error";
    }
  };
  return el("tr", { dataset: { id: connection.id, slug: connection.slug } },
    el("td", { text: connection.name }),
    el("td", {}, el("code", { text: connection.slug })),
    el("td", { text: connection.kind }),
    el("td", { text: connection.baseUrl || "default" }),
    el("td", { text: connection.secretSet ? (connection.secretLast4 ? `…${connection.secretLast4}` : "set") : "none" }),
    el("td", { text: connection.lastUsedAt ? formatDate(connection.lastUsedAt) : "never" }),
    el("td", {},
      el("button", { class: "button button--small", type: "button", text: "Test", "aria-label": `Test ${connection.name}`, onclick: test }),
      " ",
      el("button", {
        class: "button button--small button--danger",
        type: "button",
        text: "Delete",
        "aria-label": `Delete ${connection.name}`,
        onclick: () => remove(connection),
      }),
      " ",
      status,
    ),
  );
}

async function load() {
  const rows = $("connection-rows");
  try {
    const page = await api.listConnections();
    rows.replaceChildren(
      ...(page.results.length ? page.results.map(row) : [el("tr", {}, el("td", { colspan: 7, class: "empty", text: "No connections yet." }))]),
    );
  } catch (error) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "error", text: `Could not load connections: ${error.message}` })));
  }
  document.body.dataset.ready = "true";
}

async function remove(connection) {
  await confirmThenDo({
    title: "Delete connection?",
    message: `Nodes whose chain names “${connection.slug}” will fail until you add it again.`,
    confirmLabel: "Delete",
    action: () => api.deleteConnection(connection.id),
    done: `Deleted “${connection.name}”.`,
    failure: "Could not delete",
    after: load,
  });
}

$("connection-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {
    name: $("connection-name").value.trim(),
    slug: $("connection-slug").value.trim(),
    kind: $("connection-kind").value,
    baseUrl: $("connection-url").value.trim(),
    secret: $("connection-secret").value,
    local: $("connection-local").checked,
  };
  $("connection-errors").textContent = "";
  try {
    await api.createConnection(body);
    form.reset();
    toast(`Added “${body.name}”.`);
    load();
  } catch (error) {
    const problems = error.fieldErrors || [];
    $("connection-errors").textContent = problems.length ? problems.map((p) => `${p.path}: ${p.message}`).join("; ") : error.message;
  }
});
load();
