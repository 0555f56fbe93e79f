// What a canvas node is drawn from besides its header: its ports, its footer (a problem, why the run
// skipped it, its last result), the link to the workflow it calls and its picture (canvas.js builds the rest).

import { api } from "./api.js";
import { calleeOf } from "./callees.js";
import { el } from "./ui.js";
import { formatDuration, formatTokens, outputImage, outputPreview } from "./runstate.js";

// Every node ends in a footer of one fixed height, run or not: what it holds (a problem, why the run
// skipped it, its last result) scrolls inside, so a result never grows the node over its neighbours.
export function nodeFooter({ messages, skipped, result, imageShown }) {
  let content;
  if (messages.length) content = [el("div", { class: "node__scroll" }, el("div", { class: "node__error", role: "alert", text: messages.join("; ") }))];
  else if (result) content = resultLines(result, imageShown, skipped);
  else content = [];
  return el("div", { class: `node__result${content.length ? "" : " is-empty"}` }, content);
}

export function portLabel(node, port, side) {
  return el(
    "span",
    { class: `port-label port-label--${side}`, dataset: { port: port.name } },
    el("span", {
      class: `port port--${side} port--${port.type}`,
      dataset: { node: node.id, port: port.name, side, type: port.type },
      title: `${port.name} (${port.type}${port.required ? ", required" : ""}${port.multiple ? ", many" : ""})`,
    }),
    port.name,
  );
}

// The last result, for the footer: a scrolling preview and a line of facts. `imageShown`: the node already
// shows its picture (an Image node), so the result does not repeat it.
function resultLines(result, imageShown, skipped) {
  const image = outputImage(result.output);
  const meta = [formatDuration(result.durationMs), formatTokens(result), result.provider]
    .filter(Boolean)
    .join(" · ");
  let body;
  if (result.status === "skipped") body = el("div", { class: "node__output node__output--skipped", text: result.errorMessage || "Skipped." });
  else if (result.errorMessage) body = el("div", { class: "node__output node__output--error", text: result.errorMessage });
  else if (image && imageShown) body = el("div", { class: "node__output", text: "Image passed on." });
  else if (image) body = el("img", { class: "node__thumb", src: image, alt: "output image" });
  else body = el("div", { class: "node__output", text: outputPreview(result.output, 2000) });
  return [
    skipped
      ? el("div", { class: "node__skip", dataset: { reason: skipped.kind }, title: skipped.detail || null, text: `Skipped: ${skipped.label}` })
      : null,
    el("div", { class: "node__scroll", tabindex: "-1" }, body),
    meta ? el("div", { class: "node__meta", text: meta }) : null,
  ].filter(Boolean);
}

// A Sub-workflow or Map node links to the workflow it calls (a new tab: the edits here stay as they are).
export function calleeLink(node) {
  const callee = calleeOf(node.data);
  const name = callee ? callee.name : "the called workflow";
  return el("a", {
    class: "node__open",
    href: `/workflows/${encodeURIComponent(node.data.workflowId)}/`,
    target: "_blank",
    rel: "noopener",
    title: `Open ${name} in a new tab`,
    text: "Open ↗",
    onpointerdown: (event) => event.stopPropagation(),
  });
}

// The picture of a node whose kind holds one (`imageSource` names its upload id and URL fields).
export function imageOf(data, source) {
  if (data[source.upload]) return api.uploadContentUrl(data[source.upload]);
  return data[source.url] || null;
}
