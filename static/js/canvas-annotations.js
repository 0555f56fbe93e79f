// Drawing and moving the canvas's sticky notes and group frames (annotations.js holds their model). Like the
// rest of the canvas it never edits the graph: a drag ends in a callback (onNoteChange, onMoveEnd for a
// group's nodes, onGroupOpen) and the editor's re-render draws the result.

import { clampNoteSize, groupFrame, noteBlocks } from "./annotations.js";
import { el } from "./ui.js";

// Draws the notes and the group frames into `canvas.annotationLayer` (under the edges and nodes).
export function drawAnnotations(canvas) {
  const graph = canvas.graph;
  const groups = graph.groups || [];
  const rects = groups.length ? new Map(canvas.nodeRects().map((rect) => [rect.id, rect])) : null;
  const frames = groups.map((group) => groupElement(group, groupFrame(group, rects))).filter(Boolean);
  const notes = (graph.notes || []).map((note) => noteElement(note, canvas.state.selection));
  canvas.annotationLayer.replaceChildren(...frames, ...notes);
}

function groupElement(group, frame) {
  if (!frame) return null;
  return el("div", {
    class: `group-frame group-frame--${group.color || "blue"}`,
    dataset: { group: group.id },
    style: `transform: translate(${frame.x}px, ${frame.y}px); width: ${frame.width}px; height: ${frame.height}px`,
  },
  el("div", { class: "group-frame__title", title: "Drag to move the group; double-click to rename", role: "button", tabindex: "-1", "aria-label": `Group ${group.title}`, text: group.title || "Group" }));
}

function noteElement(note, selection) {
  const selected = selection.notes && selection.notes.has(note.id);
  return el("div", {
    class: `sticky-note sticky-note--${note.color || "yellow"}${selected ? " is-selected" : ""}`,
    dataset: { note: note.id },
    role: "note",
    "aria-label": `Sticky note ${note.text ? note.text.slice(0, 40) : "(empty)"}`,
    title: "Double-click to edit; drag to move; right-click for colours",
    style: `transform: translate(${note.position.x}px, ${note.position.y}px); width: ${note.width}px; height: ${note.height}px`,
  },
  el("div", { class: "sticky-note__body" }, note.text ? renderBlocks(noteBlocks(note.text)) : el("p", { class: "sticky-note__placeholder", text: "Double-click to write" })),
  el("span", { class: "sticky-note__resize", "aria-hidden": "true", title: "Drag to resize" }));
}

function renderSpans(spans) {
  return spans.map(({ style, text }) => {
    if (style === "bold") return el("strong", { text });
    if (style === "italic") return el("em", { text });
    if (style === "code") return el("code", { text });
    return document.createTextNode(text);
  });
}

function renderBlocks(blocks) {
  return blocks.map((block) => {
    if (block.type === "heading") return el("h4", {}, ...renderSpans(block.spans));
    if (block.type === "list") return el("ul", {}, block.items.map((spans) => el("li", {}, ...renderSpans(spans))));
    return el("p", {}, ...renderSpans(block.spans));
  });
}

// A pointer down on a note or a group title: moves (or resizes) it. Answers whether it took the pointer.
export function startAnnotationGesture(canvas, event, track) {
  const resize = event.target.closest(".sticky-note__resize");
  const noteElement = event.target.closest(".sticky-note");
  const title = event.target.closest(".group-frame__title");
  if (noteElement && noteElement.querySelector("textarea")) return true; // being edited: the caret's
  if (resize && noteElement) resizeNote(canvas, event, noteElement, track);
  else if (noteElement) moveNote(canvas, event, noteElement, track);
  else if (title) moveGroup(canvas, event, title.closest(".group-frame"), track);
  else return false;
  return true;
}

function findNote(canvas, id) {
  return (canvas.graph.notes || []).find((note) => note.id === id);
}

function moveNote(canvas, event, element, track) {
  const note = findNote(canvas, element.dataset.note);
  const zoom = canvas.view.zoom;
  canvas.callbacks.onSelectNote(note.id);
  track(
    event,
    (_e, delta) => {
      element.style.transform = `translate(${note.position.x + delta.x / zoom}px, ${note.position.y + delta.y / zoom}px)`;
    },
    (_e, moved, delta) => {
      if (moved) canvas.callbacks.onNoteChange(note.id, { position: { x: Math.round(note.position.x + delta.x / zoom), y: Math.round(note.position.y + delta.y / zoom) } });
    },
  );
}

function resizeNote(canvas, event, element, track) {
  const note = findNote(canvas, element.dataset.note);
  const zoom = canvas.view.zoom;
  const size = (delta) => ({ width: clampNoteSize(note.width + delta.x / zoom), height: clampNoteSize(note.height + delta.y / zoom) });
  track(
    event,
    (_e, delta) => {
      const { width, height } = size(delta);
      Object.assign(element.style, { width: `${width}px`, height: `${height}px` });
    },
    (_e, moved, delta) => {
      if (moved) canvas.callbacks.onNoteChange(note.id, size(delta));
    },
  );
}

// Dragging a group's title moves the frame and every node in it (the edges follow at the end).
function moveGroup(canvas, event, frame, track) {
  const group = (canvas.graph.groups || []).find((candidate) => candidate.id === frame.dataset.group);
  const members = new Set(group.nodes);
  const starts = new Map(canvas.graph.nodes.filter((node) => members.has(node.id)).map((node) => [node.id, { ...node.position }]));
  const frameStart = new DOMMatrix(frame.style.transform);
  const zoom = canvas.view.zoom;
  track(
    event,
    (_e, delta) => {
      const shift = { x: delta.x / zoom, y: delta.y / zoom };
      frame.style.transform = `translate(${frameStart.e + shift.x}px, ${frameStart.f + shift.y}px)`;
      for (const [id, start] of starts) {
        const element = canvas.nodeElements.get(id);
        if (element) element.style.transform = `translate(${start.x + shift.x}px, ${start.y + shift.y}px)`;
      }
      canvas.updateEdgesOf(members, new Map([...members].map((id) => [id, shift])));
    },
    (_e, moved, delta) => {
      if (!moved) return;
      const positions = {};
      for (const [id, start] of starts) positions[id] = { x: start.x + delta.x / zoom, y: start.y + delta.y / zoom };
      canvas.callbacks.onMoveEnd(positions);
    },
  );
}

// A double-click on a note edits its text in place (the note's own text area; leaving it or Ctrl+Enter
// keeps the text, Escape drops the change); on a group's title it asks for a new title (onGroupOpen).
export function listenForAnnotationEdits(canvas) {
  canvas.root.addEventListener("dblclick", (event) => {
    const title = event.target.closest(".group-frame__title");
    if (title) {
      event.stopPropagation();
      canvas.callbacks.onGroupOpen(title.closest(".group-frame").dataset.group);
      return;
    }
    const element = event.target.closest(".sticky-note");
    if (!element || element.querySelector("textarea")) return;
    event.stopPropagation();
    editNote(canvas, element);
  });
}

export function editNote(canvas, element) {
  const note = findNote(canvas, element.dataset.note);
  const area = el("textarea", { class: "sticky-note__editor", "aria-label": "Note text (**bold**, *italic*, `code`, # heading, - list)" });
  area.value = note.text || "";
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    if (keep && area.value !== (note.text || "")) canvas.callbacks.onNoteChange(note.id, { text: area.value });
    else canvas.callbacks.onNoteChange(note.id, null); // redraw as it was
  };
  area.addEventListener("blur", () => finish(true));
  area.addEventListener("keydown", (event) => {
    event.stopPropagation(); // the editor's shortcuts (Delete, arrows) are the text's here
    if (event.key === "Escape") finish(false);
    else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) finish(true);
  });
  element.querySelector(".sticky-note__body").replaceChildren(area);
  area.focus();
}
