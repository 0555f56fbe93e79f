// A code box: a monospaced textarea beside a gutter of line numbers that follows its scrolling, where Tab
// indents; the line the last run failed at is marked in the gutter and behind the text, and said under the box.

import { el } from "./ui.js";

// Wraps `area` and returns the box to place instead of it; `failedLine` is 1-based, or null.
export function codeBox(area, { failedLine = null } = {}) {
  area.classList.add("code-box__text");
  area.setAttribute("wrap", "off");
  area.addEventListener("keydown", indentOnTab);
  const gutter = el("div", { class: "code-box__gutter", "aria-hidden": "true" });
  const number = () => {
    const count = lineCount(area.value);
    if (gutter.childElementCount === count) return;
    gutter.replaceChildren(...Array.from({ length: count }, (_, index) =>
      el("div", { class: index + 1 === failedLine ? "code-box__number is-marked" : "code-box__number", text: String(index + 1) })));
    gutter.scrollTop = area.scrollTop;
  };
  number();
  area.addEventListener("input", number);
  area.addEventListener("scroll", () => {
    gutter.scrollTop = area.scrollTop;
  });
  const note = failedLine
    ? el("div", { class: "code-box__note", id: `${area.id}-failed-line`, text: `The last run failed at line ${failedLine}.` })
    : null;
  if (failedLine) {
    area.classList.add("has-failed-line");
    area.style.setProperty("--failed-line", String(failedLine));
    area.setAttribute("aria-describedby", [area.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "));
  }
  return el("div", { class: "code-box" }, el("div", { class: "code-box__frame" }, gutter, area), note);
}

export function lineCount(text) {
  return text.split("\n").length;
}

// The line a failed node's error names: a Code node's message ends with "(line N)". Null when it names none.
export function failedLineOf(result) {
  if (!result || result.status !== "failed" || !result.errorMessage) return null;
  const match = /\(line (\d+)\)\s*$/.exec(result.errorMessage);
  return match ? Number(match[1]) : null;
}

// Tab indents (four spaces at the caret) instead of leaving the field; Shift+Tab still moves focus.
function indentOnTab(event) {
  if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey) return;
  event.preventDefault();
  event.target.setRangeText("    ", event.target.selectionStart, event.target.selectionEnd, "end");
  event.target.dispatchEvent(new Event("input", { bubbles: true }));
}
