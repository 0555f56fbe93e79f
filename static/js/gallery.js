// The New workflow gallery: a blank workflow, or a copy of one of the server's templates.

import { api } from "./api.js";
import { el, toast } from "./ui.js";

function templateCard(template, pick) {
  const helper = template.createsHelper ? ` Also copies “${template.createsHelper}”, which it calls.` : "";
  return el("button", {
    type: "button",
    class: "gallery__card",
    dataset: { template: template.slug },
    onclick: () => pick(template),
  },
    el("span", { class: "gallery__icon", "aria-hidden": "true", text: template.icon }),
    el("span", { class: "gallery__name", text: template.name }),
    el("span", { class: "gallery__text", text: `${template.description}${helper}` }),
  );
}

// Shows the gallery; `startBlank` runs when the user picks a blank workflow, and a template is copied
// and opened in the editor.
export async function openGallery({ startBlank }) {
  const grid = el("div", { class: "gallery__grid" }, el("p", { class: "muted", text: "Loading templates…" }));
  const dialog = el("dialog", { class: "dialog gallery", "aria-labelledby": "gallery-title" },
    el("div", { class: "gallery__head" },
      el("h2", { id: "gallery-title", text: "New workflow" }),
      el("button", { type: "button", class: "button button--small", text: "Close", onclick: () => dialog.close() }),
    ),
    el("p", { class: "muted", text: "Start from a blank canvas or from a template; a template becomes your own copy." }),
    grid,
  );
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();

  const blank = el("button", { type: "button", class: "gallery__card gallery__card--blank", dataset: { template: "blank" },
    onclick: () => { dialog.close(); startBlank(); } },
    el("span", { class: "gallery__icon", "aria-hidden": "true", text: "+" }),
    el("span", { class: "gallery__name", text: "Blank workflow" }),
    el("span", { class: "gallery__text", text: "An empty canvas: add nodes from the palette." }),
  );
  let templates = [];
  try {
    templates = await api.listTemplates();
  } catch (error) {
    toast(`Could not load the templates: ${error.message}`, "error");
  }
  const copy = async (template) => {
    grid.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      const workflow = await api.createFromTemplate(template.slug);
      window.location.href = `/workflows/${workflow.id}/`;
    } catch (error) {
      toast(`Could not copy “${template.name}”: ${error.message}`, "error");
      grid.querySelectorAll("button").forEach((button) => { button.disabled = false; });
    }
  };
  grid.replaceChildren(blank, ...templates.map((template) => templateCard(template, copy)));
  blank.focus();
}
