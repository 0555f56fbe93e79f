// A small popup at the pointer: the context menu and the node picker share it. One at a time; Escape, a
// click elsewhere or a choice closes it.

import { el } from "../ui.js";

let openPopup = null;

export function closePopup() {
  if (!openPopup) return;
  const { element, cleanup } = openPopup;
  openPopup = null;
  cleanup();
  element.remove();
}

// Places `element` at the client point, kept inside the window.
export function showPopup(element, { clientX, clientY }) {
  closePopup();
  element.style.left = "0px";
  element.style.top = "0px";
  document.body.append(element);
  const { width, height } = element.getBoundingClientRect();
  element.style.left = `${Math.max(4, Math.min(clientX, window.innerWidth - width - 4))}px`;
  element.style.top = `${Math.max(4, Math.min(clientY, window.innerHeight - height - 4))}px`;
  const outside = (event) => {
    if (!element.contains(event.target)) closePopup();
  };
  const escape = (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      closePopup();
    }
  };
  // Registered after this event has finished, so the click that opened it does not close it.
  const timer = setTimeout(() => window.addEventListener("pointerdown", outside, true), 0);
  window.addEventListener("keydown", escape, true);
  openPopup = {
    element,
    cleanup: () => {
      clearTimeout(timer);
      window.removeEventListener("pointerdown", outside, true);
      window.removeEventListener("keydown", escape, true);
    },
  };
}

// items: [{label, run, danger?, disabled?, shortcut? (shown), keys? (aria-keyshortcuts)}] or null for a separator.
export function showMenu(items, where, label) {
  const buttons = [];
  const menu = el("div", { class: "popup menu", role: "menu", "aria-label": label },
    items.map((item) => {
      if (!item) return el("hr", { class: "menu__separator" });
      const button = el("button", {
        type: "button",
        role: "menuitem",
        class: `menu__item${item.danger ? " menu__item--danger" : ""}`,
        disabled: item.disabled || false,
        "aria-keyshortcuts": item.keys || null,
        onclick: () => {
          closePopup();
          item.run();
        },
      }, el("span", { text: item.label }), item.shortcut ? el("kbd", { class: "menu__shortcut", "aria-hidden": "true", text: item.shortcut }) : null);
      buttons.push(button);
      return button;
    }),
  );
  menu.addEventListener("keydown", (event) => {
    const enabled = buttons.filter((button) => !button.disabled);
    const index = enabled.indexOf(document.activeElement);
    if (event.key === "ArrowDown") enabled[(index + 1) % enabled.length].focus();
    else if (event.key === "ArrowUp") enabled[(index - 1 + enabled.length) % enabled.length].focus();
    else return;
    event.preventDefault();
  });
  showPopup(menu, where);
  const first = buttons.find((button) => !button.disabled);
  if (first) first.focus({ preventScroll: true });
}
