// API keys (/system/tokens): list, create (the whole key is shown once), delete.
import { del, get, post } from "../api.js";
import { fill, guard, h, title, when } from "../ui.js";

export async function keysPage(main) {
  const list = h("div");
  const fresh = h("div", { "aria-live": "polite" });

  async function load() {
    const tokens = await get("/system/tokens");
    fill(list, tokens.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "API keys" },
      h("thead", {}, h("tr", {}, ["Key", "Created"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, tokens.map((t) => h("tr", {}, h("td", { class: "mono" }, t.token), h("td", {}, t.create_date || when(t.create_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Delete key ${t.token}`,
          onclick: async () => {
            if (!confirm("Delete this API key? Clients using it stop working.")) return;
            if (await guard(() => del(`/system/tokens/${encodeURIComponent(t.token)}`), "Key deleted") !== undefined) load();
          },
        }, "Delete"))))))) : h("p", { class: "muted" }, "No API keys."));
  }

  fill(main, title("API keys"),
    h("p", { class: "muted" }, "Keys authorise the SDKs, curl and this console. A new key is shown once: copy it now."),
    h("p", {}, h("button", {
      type: "button", class: "primary",
      onclick: async () => {
        const made = await guard(() => post("/system/tokens"), "Key created");
        if (made) { fill(fresh, h("div", { class: "panel" }, h("p", {}, "Your new API key:"), h("p", { class: "secret" }, made.token))); load(); }
      },
    }, "Create API key")),
    fresh, list);
  await load();
}
