// The editor's Versions tab: the saved versions, newest first, each restorable after a confirm.

import { api } from "./api.js";
import { diffLines } from "./graphdiff.js";
import { choose, el, formatDate, toast } from "./ui.js";

// `currentVersion()` and `isDirty()` read the editor's state when needed; `onRestored(workflow)` loads
// the workflow the server answers with (saved as a new version) into the editor; `onChanges(changes)` marks
// the nodes a shown diff added or changed on the canvas (id -> "added" | "changed"; empty: none).
export function versionsPanel(list, { workflowId, currentVersion, isDirty, onRestored, onChanges = () => {} }) {
  let latestLoad = 0;
  let restoring = false;
  let shownDiff = null; // { number, element } of the diff open under a version

  async function load() {
    const ticket = ++latestLoad; // a slow answer must not overwrite a newer one
    try {
      const versions = await api.listVersions(workflowId);
      if (ticket === latestLoad) render(versions);
    } catch (error) {
      if (ticket !== latestLoad) return;
      list.replaceChildren(el("li", { class: "error", text: `Could not load versions: ${error.message}` }));
    }
  }

  function render(versions) {
    closeDiff();
    if (!versions.length) {
      list.replaceChildren(el("li", { class: "empty", text: "No saved versions yet. Press Save to make one." }));
      return;
    }
    const current = currentVersion();
    list.replaceChildren(
      ...versions.map((version) => {
        const isCurrent = version.number === current;
        const savedBy = [version.savedBy, formatDate(version.createdAt)].filter(Boolean).join(" · ");
        const facts = el("div", { class: "version-item__facts" },
          el("span", { class: "version-item__title" },
            el("strong", { text: `v${version.number}` }),
            el("span", { class: "version-item__name", text: version.name, title: version.name }),
            isCurrent ? el("span", { class: "badge badge--current", text: "current" }) : null),
          version.note ? el("span", { class: "version-item__note", text: version.note }) : null,
          el("span", { class: "muted", text: savedBy }),
        );
        const restoreButton = el("button", {
          type: "button",
          class: "button button--small",
          text: "Restore",
          "aria-label": `Restore version ${version.number}`,
          onclick: () => restore(version),
        });
        return el("li", {
          class: `version-item${isCurrent ? " is-current" : ""}`,
          dataset: { version: version.number },
          "aria-current": isCurrent ? "true" : null,
        }, facts, evaluateLink(version.number), isCurrent ? null : changesButton(version.number, current), isCurrent ? null : restoreButton);
      }),
    );
  }

  // What changed from this version to the current one, under it in the list and marked on the canvas.
  function changesButton(number, current) {
    return el("button", {
      type: "button",
      class: "button button--small",
      text: "Changes",
      "aria-label": `Changes since version ${number}`,
      "aria-expanded": "false",
      onclick: (event) => toggleDiff(number, current, event.currentTarget),
    });
  }

  async function toggleDiff(number, current, button) {
    const wasShown = shownDiff && shownDiff.number === number;
    closeDiff();
    if (wasShown) return;
    let diff;
    try {
      diff = await api.versionDiff(workflowId, number, current);
    } catch (error) {
      toast(`Could not compare version ${number}: ${error.message}`, "error");
      return;
    }
    const element = diffView(diff, number, current);
    button.closest("li").after(element);
    button.setAttribute("aria-expanded", "true");
    shownDiff = { number, element, button };
    onChanges(new Map([
      ...diff.nodes.added.map((node) => [node.id, "added"]),
      ...diff.nodes.changed.map((node) => [node.id, "changed"]),
    ]));
  }

  function closeDiff() {
    if (!shownDiff) return;
    shownDiff.element.remove();
    shownDiff.button.setAttribute("aria-expanded", "false");
    shownDiff = null;
    onChanges(new Map());
  }

  function diffView(diff, number, current) {
    const lines = diffLines(diff);
    return el("li", { class: "version-diff", role: "region", "aria-label": `Changes from version ${number} to version ${current}` },
      el("div", { class: "version-diff__head" },
        el("strong", { text: `v${number} → v${current}` }),
        el("button", { type: "button", class: "button button--small", text: "Close", onclick: closeDiff })),
      lines.length
        ? el("ul", {}, ...lines.map((line) => el("li", { text: line })))
        : el("span", { class: "muted", text: "No changes to the graph." }),
    );
  }

  // To the Experiments page, with this version chosen for the next experiment.
  function evaluateLink(number) {
    return el("a", {
      class: "button button--small",
      href: `/workflows/${workflowId}/experiments/?version=${number}`,
      text: "Evaluate",
      "aria-label": `Evaluate version ${number}`,
    });
  }

  async function restore(version) {
    if (restoring) return;
    const answer = await choose({
      title: `Restore version ${version.number}?`,
      message:
        `The workflow will be saved as a new version with the graph and name of version ${version.number}; ` +
        "later versions stay in the list." +
        (isDirty() ? " Your unsaved changes will be lost." : ""),
      buttons: [
        { label: "Cancel", value: "cancel" },
        { label: "Restore", value: "restore", kind: "primary" },
      ],
    });
    if (answer !== "restore") return;
    restoring = true;
    let workflow = null;
    try {
      workflow = await api.restoreVersion(workflowId, version.number);
    } catch (error) {
      toast(`Could not restore version ${version.number}: ${error.message}`, "error");
    } finally {
      restoring = false;
    }
    if (workflow) {
      onRestored(workflow);
      toast(`Restored version ${version.number} as version ${workflow.version}.`, "success", 3000);
    }
    load();
  }

  return { load };
}
