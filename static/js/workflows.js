// The workflows page: search, create, rename, duplicate, delete, import and export.

import { api } from "./api.js";
import { openGallery } from "./gallery.js";
import { confirmThenDo, debounce, el, formatDate, plural, promptDialog, statusBadge, toast } from "./ui.js";

const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);
const view = { page: 1, search: "" };

// Answers to superseded requests (an older filter or search) are dropped when they arrive late.
let latest = 0;

async function load() {
  const ticket = ++latest;
  const list = $("workflow-list");
  let page;
  try {
    page = await api.listWorkflows({ page: view.page, limit: PAGE_SIZE, search: view.search });
  } catch (error) {
    if (error.status === 404 && view.page > 1) {
      view.page -= 1;
      return load();
    }
    list.replaceChildren(el("p", { class: "error", text: `Could not load workflows: ${error.message}` }));
    return;
  }
  if (ticket !== latest) return;
  if (!page.results.length) {
    list.replaceChildren(
      el("div", { class: "empty-state" },
        view.search
          ? el("p", { text: `No workflow matches “${view.search}”.` })
          : el("p", { text: "No workflows yet. Create one, or import a JSON file exported from Weft." })),
    );
  } else {
    list.replaceChildren(...page.results.map(card));
  }
  renderPager(page.count);
  document.body.dataset.ready = "true";
}

function card(workflow) {
  const editor = `/workflows/${workflow.id}/`;
  return el("article", { class: "card", dataset: { id: workflow.id } },
    el("div", { class: "card__main" },
      el("h2", { class: "card__title" }, el("a", { href: editor, text: workflow.name })),
      workflow.description ? el("p", { class: "muted", text: workflow.description }) : null,
      el("p", { class: "card__meta" },
        statusBadge(workflow.lastRunStatus),
        ` ${plural(workflow.nodeCount ?? 0, "node")} · ${plural(workflow.runCount ?? 0, "run")} · version ${workflow.version} · updated ${formatDate(workflow.updatedAt)}`),
    ),
    el("div", { class: "card__actions" },
      el("a", { class: "button button--primary button--small", href: editor, text: "Open" }),
      el("button", { class: "button button--small", type: "button", text: "Rename", "aria-label": `Rename ${workflow.name}`, onclick: () => rename(workflow) }),
      el("button", { class: "button button--small", type: "button", text: "Duplicate", "aria-label": `Duplicate ${workflow.name}`, onclick: () => duplicate(workflow) }),
      el("a", { class: "button button--small", href: api.exportUrl(workflow.id), download: `${workflow.name}.json`, text: "Export", "aria-label": `Export ${workflow.name}` }),
      el("button", { class: "button button--small button--danger", type: "button", text: "Delete", "aria-label": `Delete ${workflow.name}`, onclick: () => remove(workflow) }),
    ),
  );
}

function renderPager(count) {
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  const pager = $("pager");
  if (pages <= 1) {
    pager.replaceChildren();
    return;
  }
  pager.replaceChildren(
    el("button", { class: "button button--small", type: "button", disabled: view.page <= 1, text: "← Previous", onclick: () => { view.page -= 1; load(); } }),
    el("span", { class: "muted", text: ` Page ${view.page} of ${pages} ` }),
    el("button", { class: "button button--small", type: "button", disabled: view.page >= pages, text: "Next →", onclick: () => { view.page += 1; load(); } }),
  );
}

async function create() {
  const name = await promptDialog("New workflow", "Name", "Untitled workflow", "Create");
  if (!name) return;
  try {
    const workflow = await api.createWorkflow({ name, description: "", nodes: [], edges: [] });
    window.location.href = `/workflows/${workflow.id}/`;
  } catch (error) {
    toast(`Could not create the workflow: ${error.message}`, "error");
  }
}

async function rename(summary) {
  const name = await promptDialog("Rename workflow", "Name", summary.name, "Rename");
  if (!name || name === summary.name) return;
  try {
    const workflow = await api.getWorkflow(summary.id);
    await api.updateWorkflow(summary.id, {
      name,
      description: workflow.description,
      nodes: workflow.nodes,
      edges: workflow.edges,
      version: workflow.version,
    });
    toast(`Renamed to “${name}”.`, "success");
    load();
  } catch (error) {
    toast(`Could not rename: ${error.message}`, "error");
  }
}

async function duplicate(summary) {
  try {
    const copy = await api.duplicateWorkflow(summary.id);
    toast(`Created “${copy.name}”.`, "success");
    view.page = 1;
    load();
  } catch (error) {
    toast(`Could not duplicate: ${error.message}`, "error");
  }
}

async function remove(summary) {
  await confirmThenDo({
    title: "Delete workflow?",
    message: `“${summary.name}” and its versions will be deleted. Its runs stay in the run history.`,
    action: () => api.deleteWorkflow(summary.id),
    done: `Deleted “${summary.name}”.`,
    failure: "Could not delete",
    after: load,
  });
}

async function importFile(file) {
  let body;
  try {
    body = JSON.parse(await file.text());
  } catch {
    toast(`${file.name} is not valid JSON.`, "error");
    return;
  }
  if (body && typeof body === "object") {
    // An import sits beside the workflow it came from: its name says it is the imported one.
    const name = (typeof body.name === "string" && body.name.trim()) || file.name.replace(/\.json$/i, "");
    body.name = name.endsWith("(imported)") ? name : `${name.slice(0, 189)} (imported)`;
  }
  try {
    const workflow = await api.importWorkflow(body);
    toast(`Imported “${workflow.name}”.`, "success");
    view.page = 1;
    load();
  } catch (error) {
    const details = error.fieldErrors.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    toast(`Could not import ${file.name}: ${error.message}${details ? ` (${details})` : ""}`, "error", 10000);
  }
}

$("new-workflow").addEventListener("click", () => openGallery({ startBlank: create }));
$("search").addEventListener("input", debounce(() => {
  view.search = $("search").value.trim();
  view.page = 1;
  load();
}));
$("search-form").addEventListener("submit", (event) => event.preventDefault());
$("import-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) importFile(file);
  event.target.value = "";
});
load();
