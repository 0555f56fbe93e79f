// Small DOM helpers shared by the pages: element builder, toasts, confirm and prompt dialogs, dates.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function readJsonScript(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function toastArea() {
  let area = document.getElementById("toasts");
  if (!area) {
    area = el("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(area);
  }
  return area;
}

// How long a toast stays unless its caller says otherwise: long enough to read a sentence.
const TOAST_SHOWN_MS = 5000;

// A message in the corner; kind is "info", "success" or "error". `timeout` in ms (0: it stays). One at a
// time: a new message replaces the one shown, so a burst of saves never piles up a column of toasts.
export function toast(message, kind = "info", timeout = TOAST_SHOWN_MS) {
  const item = el("div", { class: `toast toast--${kind}` }, message);
  toastArea().replaceChildren(item);
  if (timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

// A modal dialog with buttons; resolves to the value of the button pressed (null on Escape).
export function choose({ title, message, buttons, input = null }) {
  return new Promise((resolve) => {
    const field = input
      ? el("input", { type: "text", class: "input", value: input.value || "", "aria-label": input.label })
      : null;
    const dialog = el(
      "dialog",
      { class: "dialog", "aria-labelledby": "dialog-title" },
      el("form", { method: "dialog" },
        el("h2", { id: "dialog-title", text: title }),
        message ? el("p", { text: message }) : null,
        input ? el("label", { class: "field" }, el("span", { text: input.label }), field) : null,
        el("div", { class: "dialog__actions" },
          buttons.map((button) =>
            el("button", {
              type: "submit",
              value: button.value,
              class: `button ${button.kind ? `button--${button.kind}` : ""}`,
              text: button.label,
            }),
          ),
        ),
      ),
    );
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const value = dialog.returnValue || null;
      dialog.remove();
      if (input) resolve(value && value !== "cancel" ? { value, text: field.value } : null);
      else resolve(value && value !== "cancel" ? value : null);
    });
    dialog.showModal();
    if (field) {
      // A form's implicit submission presses its first submit button, Cancel here: Enter means the
      // dialog's answer (its primary button, else its last).
      const answer = buttons.find((button) => button.kind === "primary") || buttons[buttons.length - 1];
      field.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" || event.isComposing) return;
        event.preventDefault();
        dialog.close(answer.value);
      });
      field.select();
    }
  });
}

export async function confirmDialog(title, message, confirmLabel = "Delete") {
  const answer = await choose({
    title,
    message,
    buttons: [
      { label: "Cancel", value: "cancel" },
      { label: confirmLabel, value: "ok", kind: "danger" },
    ],
  });
  return answer === "ok";
}

// Ask first, then do a destructive `action`; say how it went, and call `after` once it succeeded.
export async function confirmThenDo({ title, message, confirmLabel = "Delete", action, done, failure, after }) {
  if (!(await confirmDialog(title, message, confirmLabel))) return;
  try {
    await action();
    toast(done, "success");
    after();
  } catch (error) {
    toast(`${failure}: ${error.message}`, "error");
  }
}

export async function promptDialog(title, label, value = "", okLabel = "Save") {
  const answer = await choose({
    title,
    input: { label, value },
    buttons: [
      { label: "Cancel", value: "cancel" },
      { label: okLabel, value: "ok", kind: "primary" },
    ],
  });
  return answer ? answer.text.trim() : null;
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function statusBadge(status) {
  const title = status === "waiting" ? "Waiting for an approval" : null;
  return el("span", { class: `badge badge--${status || "none"}`, text: status || "never run", title });
}

// Child runs ([{id, status, item}], as a run's `childRuns` lists them: a Map's in item order) as links to
// their run pages: each its status, its Map item if any, and its short id.
export function childRunLinks(children) {
  return el("ul", { class: "child-runs child-runs--inline" }, children.map((child) => el("li", {},
    el("a", { href: `/runs/${child.id}/`, class: "child-run", "aria-label": `Child run ${childRunName(child)}, ${child.status}` },
      statusBadge(child.status), " ", el("code", { text: childRunName(child) })),
  )));
}

// "item 3 · 1a2b3c4d" for a Map's child, the short id otherwise.
export function childRunName(child) {
  const short = child.id.slice(0, 8);
  return child.item == null ? short : `item ${child.item} · ${short}`;
}

export function debounce(fn, wait = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

// Calls fn the first time only: a failing poll reports once, not every second.
export function once(fn) {
  let called = false;
  return (...args) => {
    if (called) return undefined;
    called = true;
    return fn(...args);
  };
}

// "1 run", "3 runs".
export function plural(count, noun, many = `${noun}s`) {
  return `${count} ${count === 1 ? noun : many}`;
}
