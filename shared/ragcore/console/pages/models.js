// Models: add a provider's key (RAGFlow's /providers routes check it against the provider), remove a provider,
// list every model the tenant can use and choose the defaults (/models, /models/default).
import { del, get, patch, post, put } from "../api.js";
import { field, fill, guard, h, title } from "../ui.js";

function table(label, headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

export async function modelsPage(main) {
  const [catalogue, providers, models, defaults] = await Promise.all([
    get("/providers", { available: true }), get("/providers"), get("/models"), get("/models/default")]);
  const current = new Set(((defaults && defaults.models) || []).map((d) => `${d.model_type}:${d.model_name}@${d.model_provider}`));
  const factory = h("select", {}, catalogue.map((c) => h("option", { value: c.name }, c.name)));
  const instance = h("input", { type: "text", value: "main", required: true });  // RAGFlow refuses the name "default"
  const apiKey = h("input", { type: "password", autocomplete: "off" });
  const baseUrl = h("input", { type: "text", placeholder: "the provider's own" });
  const syncPlaceholder = () => {
    const entry = catalogue.find((c) => c.name === factory.value);
    baseUrl.placeholder = (entry && entry.url && entry.url.default) || "required for this provider";
  };
  factory.addEventListener("change", syncPlaceholder);
  syncPlaceholder();

  async function add(ev) {
    ev.preventDefault();
    const name = factory.value;
    if (!providers.some((p) => (p.name || p.provider_name) === name)) {
      if ((await guard(() => put("/providers", { provider_name: name }))) === undefined) return;
    }
    const body = { instance_name: instance.value.trim(), api_key: apiKey.value, base_url: baseUrl.value.trim(), region: "default" };
    const ok = await guard(() => post(`/providers/${encodeURIComponent(name)}/instances`, body).then(() => true), `${name} added`);
    if (ok) modelsPage(main);
  }

  async function makeDefault(m, type) {
    const ok = await guard(() => patch("/models/default", { model_provider: m.model_provider || m.provider_name,
      model_instance: m.instance_name || "main", model_type: type, model_name: m.name }).then(() => true),
    `${m.name} is the default ${type} model`);
    if (ok) modelsPage(main);
  }

  const provider = (m) => m.model_provider || m.provider_name || "";
  const setTypes = new Set(((defaults && defaults.models) || []).map((d) => d.model_type));
  // a built-in model (the bundled embedder, the extractive answerer) is the default of its type until the tenant
  // names another one; it cannot be chosen by hand, so it shows a badge only
  const defaultCell = (m) => (m.model_type || []).filter((t) => ["chat", "embedding", "rerank"].includes(t)).map((t) => {
    if (provider(m) === "Builtin") return setTypes.has(t) ? null : h("span", { class: "badge run-DONE" }, `default ${t} (built in)`);
    return current.has(`${t}:${m.name}@${provider(m)}`)
      ? h("span", { class: "badge run-DONE" }, `default ${t}`)
      : h("button", { type: "button", onclick: () => makeDefault(m, t), "aria-label": `Make ${m.name} the default ${t} model` }, `default ${t}`);
  });
  const about = (m) => (provider(m) !== "Builtin" ? null
    : m.model_type.includes("chat") ? h("div", { class: "muted" }, setTypes.has("chat")
      ? "Quotes the retrieved passages: used only by chats that name it."
      : "No language model is configured: answers quote the retrieved passages. Add a provider above for written answers.")
      : h("div", { class: "muted" }, "Bundled with the server: runs offline."));

  fill(main, title("Models"),
    h("form", { class: "panel", onsubmit: add, "aria-label": "Add a model provider" },
      h("h2", {}, "Add a provider"),
      h("div", { class: "row" }, field("Provider", factory), field("Instance name", instance),
        h("div", { class: "grow" }, field("API key", apiKey)), h("div", { class: "grow" }, field("Base URL", baseUrl))),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Add provider"),
        h("span", { class: "muted" }, " The key is checked with the provider, then stored encrypted and shown masked."))),
    h("h2", {}, "Providers"),
    providers.length
      ? table("Providers", ["Provider", "Model types", "Action"], providers.map((p) => {
        const name = p.name || p.provider_name;
        return [name, (p.model_types || []).join(", "), h("button", {
          type: "button", class: "danger", "aria-label": `Remove provider ${name}`,
          onclick: async () => {
            if (!confirm(`Remove ${name} and its keys?`)) return;
            if (await guard(() => del(`/providers/${encodeURIComponent(name)}`), "Provider removed") !== undefined) modelsPage(main);
          },
        }, "Remove")];
      }))
      : h("p", { class: "muted" }, "No providers yet: the server's built-in models (and any its environment names) are used."),
    h("h2", {}, "Models available"),
    table("Models", ["Model", "Provider", "Types", "Default for"], (models || []).map((m) =>
      [[h("span", { class: "mono" }, m.name), about(m)], [provider(m), m.instance_name && provider(m) !== "Builtin" ? ` (${m.instance_name})` : ""],
        (m.model_type || []).join(", "), h("span", { class: "row" }, defaultCell(m))])));
}
