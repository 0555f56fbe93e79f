// The API tokens page: list, create (the secret is shown once) and revoke.

import { api } from "./api.js";
import { confirmThenDo, el, formatDate, toast } from "./ui.js";

const $ = (id) => document.getElementById(id);

async function load() {
  const rows = $("token-rows");
  let tokens;
  try {
    tokens = await api.listTokens();
  } catch (error) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "error", text: `Could not load tokens: ${error.message}` })));
    return;
  }
  if (!tokens.length) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No tokens yet." })));
  } else {
    rows.replaceChildren(
      ...tokens.map((token) =>
        el("tr", { dataset: { id: token.id } },
          el("td", { text: token.name }),
          el("td", {}, el("code", { text: `${token.prefix}…` })),
          el("td", { text: formatDate(token.createdAt) }),
          el("td", { text: token.lastUsedAt ? formatDate(token.lastUsedAt) : "never" }),
          el("td", {}, el("button", {
            class: "button button--small button--danger",
            type: "button",
            text: "Revoke",
            "aria-label": `Revoke token ${token.name}`,
            onclick: () => revoke(token),
          })),
        ),
      ),
    );
  }
  document.body.dataset.ready = "true";
}

async function revoke(token) {
  await confirmThenDo({
    title: "Revoke token?",
    message: `Scripts using “${token.name}” will stop working at once.`,
    confirmLabel: "Revoke",
    action: () => api.revokeToken(token.id),
    done: `Revoked “${token.name}”.`,
    failure: "Could not revoke",
    after: load,
  });
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("token-name").value.trim();
  if (!name) return;
  try {
    const issued = await api.createToken(name);
    const box = $("new-token");
    box.hidden = false;
    box.replaceChildren(
      el("p", { text: `Copy your new token “${issued.name}” now; it will not be shown again:` }),
      el("code", { class: "secret", id: "new-token-value", text: issued.token }),
    );
    $("token-name").value = "";
    load();
  } catch (error) {
    toast(`Could not create the token: ${error.message}`, "error");
  }
});
load();
