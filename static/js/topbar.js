// The header's menu button: on narrow screens the navigation and the account folds into a menu.

const toggle = document.getElementById("topbar-toggle");
const menu = document.getElementById("topbar-menu");
if (toggle && menu) {
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("is-open", open);
  });
}
