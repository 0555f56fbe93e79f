// The editor's Versions tab: the saved versions, newest first, each restorable after a confirm.

import { api } from "./api.js";
import { choose, el, formatDate, toast } from "./ui.js";

// `currentVersion()` and `isDirty()` read the editor's state when needed; `onRestored(workflow)` loads
// the workflow the server answers with (saved as a new version) into the editor.
export function versionsPanel(list, { workflowId, currentVersion, isDirty, onRestored }) {
  let latestLoad = 0;
  let restoring = false;

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
        }, facts, evaluateLink(version.number), isCurrent ? null : restoreButton);
      }),
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
