// Langfuse: the tenant's Langfuse keys (the server checks them against that Langfuse and shows the secret masked);
// with keys, chat answers are traced there.
import { del, get, post, put } from "../api.js";
import { field, fill, guard, h, title } from "../ui.js";

export async function langfusePage(main) {
  const current = await get("/langfuse/api-key");
  const host = h("input", { type: "url", required: true, value: (current && current.host) || "", placeholder: "your Langfuse address (cloud.langfuse.com, or your own)" });
  const pub = h("input", { type: "text", required: true, value: (current && current.public_key) || "", autocomplete: "off" });
  const secret = h("input", { type: "password", required: true, autocomplete: "off" });
  const shown = h("div", { "aria-live": "polite" });
  const showCurrent = (c) => fill(shown, c && c !== true
    ? h("dl", { class: "facts" }, h("dt", {}, "Host"), h("dd", { class: "mono" }, c.host), h("dt", {}, "Public key"), h("dd", { class: "mono" }, c.public_key),
      h("dt", {}, "Secret key"), h("dd", { class: "mono" }, c.secret_key))
    : h("p", { class: "muted" }, "No Langfuse keys: answers are not traced."));
  showCurrent(current);

  async function save(ev) {
    ev.preventDefault();
    const body = { host: host.value.trim(), public_key: pub.value.trim(), secret_key: secret.value };
    const saved = await guard(() => (current ? put : post)("/langfuse/api-key", body), "Langfuse keys saved");
    if (saved) { secret.value = ""; langfusePage(main); }
  }

  fill(main, title("Langfuse"),
    h("p", { class: "muted" }, "With keys, every chat answer is sent to your Langfuse as a trace (in the background: a slow Langfuse never delays an answer). The server checks the keys with that Langfuse when they are saved."),
    shown,
    h("form", { class: "panel", onsubmit: save, "aria-label": "Langfuse keys" },
      h("div", { class: "row start" }, h("div", { class: "grow" }, field("Host", host)), h("div", { class: "grow" }, field("Public key", pub)),
        h("div", { class: "grow" }, field("Secret key", secret, "shown masked once saved"))),
      h("p", { class: "row" }, h("button", { class: "primary", type: "submit" }, current ? "Replace keys" : "Save keys"),
        current ? h("button", {
          type: "button", class: "danger",
          onclick: async () => {
            if (!confirm("Remove the Langfuse keys? Answers stop being traced.")) return;
            if (await guard(() => del("/langfuse/api-key"), "Langfuse keys removed") !== undefined) langfusePage(main);
          },
        }, "Remove keys") : null)));
}
