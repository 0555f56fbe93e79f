// Sticky notes and groups: drawn on the canvas beside the nodes, saved with the graph (`notes`, `groups`),
// never run (engine/annotations.py checks them). Pure functions over the graph, as graph.js's are.

// The colours the server accepts (engine/annotations.py NOTE_COLORS), in the menus' order.
export const NOTE_COLORS = ["yellow", "blue", "green", "pink", "grey"];
export const NOTE_SIZE = { width: 220, height: 140 };
export const NOTE_MIN_SIZE = 60;
export const NOTE_MAX_SIZE = 2000;
// Room (world pixels) between a group's nodes and its frame, and the frame's title bar above them.
export const GROUP_PADDING = 24;
export const GROUP_TITLE_HEIGHT = 34;

function nextId(items, prefix) {
  const taken = new Set(items.map((item) => item.id));
  let n = items.length + 1;
  while (taken.has(`${prefix}-${n}`)) n += 1;
  return `${prefix}-${n}`;
}

export function clampNoteSize(value) {
  return Math.round(Math.min(NOTE_MAX_SIZE, Math.max(NOTE_MIN_SIZE, value)));
}

export function addNote(graph, { position, text = "", color = NOTE_COLORS[0] }) {
  const notes = graph.notes || [];
  const note = { id: nextId(notes, "note"), position: { x: Math.round(position.x), y: Math.round(position.y) }, ...NOTE_SIZE, text, color };
  return { graph: { ...graph, notes: [...notes, note] }, note };
}

// `fields`: any of position, width, height, text, color.
export function updateNote(graph, noteId, fields) {
  return { ...graph, notes: (graph.notes || []).map((note) => (note.id === noteId ? { ...note, ...fields } : note)) };
}

export function removeNote(graph, noteId) {
  return { ...graph, notes: (graph.notes || []).filter((note) => note.id !== noteId) };
}

export function groupOf(graph, nodeId) {
  return (graph.groups || []).find((group) => group.nodes.includes(nodeId)) || null;
}

// A new group around `nodeIds`: a node belongs to one group at most, so they leave the groups they were in
// (a group left empty goes).
export function groupNodes(graph, nodeIds, title = "Group") {
  const chosen = new Set(nodeIds);
  const kept = (graph.groups || [])
    .map((group) => ({ ...group, nodes: group.nodes.filter((id) => !chosen.has(id)) }))
    .filter((group) => group.nodes.length);
  const ordered = graph.nodes.filter((node) => chosen.has(node.id)).map((node) => node.id);
  const group = { id: nextId(graph.groups || [], "group"), title, nodes: ordered, color: "blue" };
  return { graph: { ...graph, groups: [...kept, group] }, group };
}

export function ungroup(graph, groupId) {
  return { ...graph, groups: (graph.groups || []).filter((group) => group.id !== groupId) };
}

export function updateGroup(graph, groupId, fields) {
  return { ...graph, groups: (graph.groups || []).map((group) => (group.id === groupId ? { ...group, ...fields } : group)) };
}

// The frame drawn around a group: its nodes' bounding box with padding and a title bar on top (world).
// `rects`: the nodes' rectangles by id. Null when none of its nodes is drawn.
export function groupFrame(group, rects) {
  const members = group.nodes.map((id) => rects.get(id)).filter(Boolean);
  if (!members.length) return null;
  const left = Math.min(...members.map((r) => r.x)) - GROUP_PADDING;
  const top = Math.min(...members.map((r) => r.y)) - GROUP_PADDING - GROUP_TITLE_HEIGHT;
  const right = Math.max(...members.map((r) => r.x + r.width)) + GROUP_PADDING;
  const bottom = Math.max(...members.map((r) => r.y + r.height)) + GROUP_PADDING;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

// Markdown-light for a note, as [{type, ...}] blocks a renderer turns into elements (no HTML is ever parsed):
// "# " a heading, "- " or "* " a list item, other lines paragraphs; inside a line **bold**, *italic*, `code`.
export function noteBlocks(text) {
  const blocks = [];
  for (const line of String(text || "").split("\n")) {
    const heading = /^#{1,3}\s+(.*)$/.exec(line);
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (heading) blocks.push({ type: "heading", spans: noteSpans(heading[1]) });
    else if (item) {
      const last = blocks[blocks.length - 1];
      if (last && last.type === "list") last.items.push(noteSpans(item[1]));
      else blocks.push({ type: "list", items: [noteSpans(item[1])] });
    } else if (line.trim()) blocks.push({ type: "paragraph", spans: noteSpans(line) });
  }
  return blocks;
}

// A line's [{style, text}] spans: style is "bold", "italic", "code" or "plain".
export function noteSpans(line) {
  const spans = [];
  const pattern = /\*\*(.+?)\*\*|`(.+?)`|\*(.+?)\*/g;
  let at = 0;
  for (const match of line.matchAll(pattern)) {
    if (match.index > at) spans.push({ style: "plain", text: line.slice(at, match.index) });
    if (match[1] !== undefined) spans.push({ style: "bold", text: match[1] });
    else if (match[2] !== undefined) spans.push({ style: "code", text: match[2] });
    else spans.push({ style: "italic", text: match[3] });
    at = match.index + match[0].length;
  }
  if (at < line.length) spans.push({ style: "plain", text: line.slice(at) });
  return spans;
}
