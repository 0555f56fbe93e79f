// A run's live events (GET /api/runs/{id}/events, server-sent) for any page that shows a run: the run page
// uses it, and the editor can adopt it as is. Nothing starts on import; callers pass what they work on.

export const RUN_EVENT_TYPES = ["run", "node", "log", "token", "reset", "end"];

// Follow one run's stream. `onEvent(type, data, id)` hears every event in order (EventSource reconnects by
// itself after a dropped connection and resumes after the last id it saw). `onUnavailable()` is called once
// when the stream cannot be used (no EventSource, refused before it opened, or closed for good): poll then.
// The stream closes itself after `end`. Returns {close()}.
export function openRunStream(url, { onEvent, onUnavailable = () => {}, EventSourceImpl = globalThis.EventSource } = {}) {
  let closed = false;
  if (typeof EventSourceImpl !== "function") {
    onUnavailable();
    return { close() {} };
  }
  const source = new EventSourceImpl(url, { withCredentials: true });
  let opened = false;
  const close = () => {
    closed = true;
    source.close();
  };
  source.addEventListener("open", () => {
    opened = true;
  });
  for (const type of RUN_EVENT_TYPES) {
    source.addEventListener(type, (event) => {
      if (closed) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent(type, data, event.lastEventId);
      if (type === "end") close();
    });
  }
  source.addEventListener("error", () => {
    if (closed) return;
    // readyState 2 (CLOSED): the browser gave up (an HTTP error, a wrong content type); before the first
    // open it was never usable. Otherwise it is reconnecting on its own.
    if (!opened || source.readyState === 2) {
      close();
      onUnavailable();
    }
  });
  return { close };
}

// The text each node shows while it runs, from a run's events: tokens append, `reset` and a (re)start clear
// it, a finished node or the run's end drop it (its result shows instead). Pure: returns a new Map.
export function liveTexts(texts, type, data) {
  const next = new Map(texts);
  if (type === "token") next.set(data.nodeId, (next.get(data.nodeId) || "") + data.text);
  else if (type === "reset") next.set(data.nodeId, "");
  else if (type === "node" && data.state === "started") next.set(data.nodeId, "");
  else if (type === "node" && data.state === "finished") next.delete(data.nodeId);
  else if (type === "end") next.clear();
  else return texts;
  return next;
}
