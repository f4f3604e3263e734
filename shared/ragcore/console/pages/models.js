// Models: the providers this tenant configured and every model it can use (read from /providers and /models).
import { get } from "../api.js";
import { h, title } from "../ui.js";

function table(label, headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

function details(provider) {
  const shown = Object.entries(provider).filter(([k]) => !/key|secret|token/i.test(k));  // never echo credentials
  return h("span", { class: "mono" }, JSON.stringify(Object.fromEntries(shown)));
}

export async function modelsPage(main) {
  const [providers, models] = await Promise.all([get("/providers"), get("/models")]);
  main.replaceChildren(title("Models"),
    h("h2", {}, "Providers"),
    (providers || []).length
      ? table("Providers", ["Provider", "Details"], providers.map((p) => [p.name || p.provider_name || p.llm_factory || p.id || "", details(p)]))
      : h("p", { class: "muted" }, "No providers configured: the server's built-in models (and any its environment names) are used."),
    h("h2", {}, "Models available"),
    table("Models", ["Model", "Provider", "Types"], (models || []).map((m) =>
      [h("span", { class: "mono" }, m.name), m.model_provider || m.provider_name || "", (m.model_type || []).join(", ")])));
}
