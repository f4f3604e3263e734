// Search apps: the list (create over datasets, delete) and one app: ask it (a streamed answer with citations, the
// passages it found) and follow its related questions; its datasets and retrieval settings are saved with the app.
import { call, del, get, post, put, stream } from "../api.js";
import { field, fill, guard, h, pager, title, when } from "../ui.js";
import { answer, citationOpener, datasetBoxes, datasetFieldset } from "./chats.js";

const PAGE_SIZE = 20;

export async function searchesPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 255 });
  const description = h("input", { type: "text" });
  const boxes = await datasetBoxes();

  async function load() {
    const res = await call("GET", "/searches", { query: { page, page_size: PAGE_SIZE } });
    const { search_apps: apps, total } = res.data;
    fill(list, apps.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Search apps" },
      h("thead", {}, h("tr", {}, ["Name", "Description"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "hide-narrow" }, "Created"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, apps.map((s) => h("tr", { "data-search": s.id },
        h("td", {}, h("a", { href: `#/searches/${s.id}` }, s.name)), h("td", {}, s.description || ""),
        h("td", { class: "hide-narrow" }, when(s.create_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Delete search app ${s.name}`,
          onclick: async () => {
            if (!confirm(`Delete search app "${s.name}"?`)) return;
            if (await guard(() => del(`/searches/${s.id}`), "Search app deleted") !== undefined) load();
          },
        }, "Delete"))))))) : h("p", { class: "muted" }, "No search apps yet."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function create(ev) {
    ev.preventDefault();
    const made = await guard(() => post("/searches", { name: name.value.trim(), description: description.value.trim() }));
    if (!made) return;
    const kbIds = boxes.filter((b) => b.checked).map((b) => b.value);
    if (kbIds.length) {
      const saved = await guard(() => put(`/searches/${made.search_id}`, { name: name.value.trim(), search_config: { kb_ids: kbIds } }));
      if (saved === undefined) return;
    }
    location.hash = `#/searches/${made.search_id}`;
  }

  fill(main, title("Search"),
    h("p", { class: "muted" }, "A search app answers a question from its datasets in one go, with the passages it found and questions to ask next."),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create a search app" },
      h("div", { class: "row" }, h("div", { class: "grow" }, field("New search app name", name)), h("div", { class: "grow" }, field("Description", description))),
      datasetFieldset(boxes, "Datasets it searches"),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create search app"))),
    list);
  await load();
}

export async function searchPage(main, searchId) {
  const app = await get(`/searches/${searchId}`);
  const cfg = app.search_config || {};
  const boxes = await datasetBoxes();
  for (const b of boxes) b.checked = (cfg.kb_ids || []).includes(b.value);
  const threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: cfg.similarity_threshold ?? 0.2 });
  const weight = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: cfg.vector_similarity_weight ?? 0.3 });
  const question = h("input", { type: "search", required: true, placeholder: "Ask anything the datasets answer" });
  const result = h("section", { "aria-live": "polite", "aria-label": "Answer" });
  const related = h("section", { "aria-label": "Related questions" });
  const open = citationOpener(new Map());

  async function save(ev) {
    ev.preventDefault();
    const search_config = { ...cfg, kb_ids: boxes.filter((b) => b.checked).map((b) => b.value),
      similarity_threshold: Number(threshold.value), vector_similarity_weight: Number(weight.value) };
    if (await guard(() => put(`/searches/${searchId}`, { name: app.name, search_config }), "Settings saved") !== undefined) Object.assign(cfg, search_config);
  }

  async function ask(text) {
    question.value = text;
    const bubble = h("div", { class: "bubble assistant" }, "…");
    fill(result, bubble);
    fill(related);
    let full = "";
    let reference = null;
    await guard(() => stream(`/searches/${searchId}/completions`, { question: text, kb_ids: cfg.kb_ids || [] }, (data) => {
      full += data.answer || "";
      if (data.reference && data.reference.chunks) reference = data.reference;
      bubble.textContent = full;
    }));
    const chunks = (reference && reference.chunks) || [];
    fill(result, answer(full, reference, open),
      chunks.length ? h("h2", {}, `Found in ${chunks.length} passage(s)`) : null,
      h("div", { class: "cards" }, chunks.map((c) => h("article", { class: "card result", "data-chunk": c.id },
        h("header", {}, h("span", { class: "mono" }, c.document_name || c.document_id), h("span", { class: "spacer" }),
          h("span", {}, "similarity ", h("b", {}, (c.similarity ?? 0).toFixed(3)))),
        h("div", { class: "content" }, c.content)))));
    const more = await guard(() => post("/sessions/related_questions", { question: text, search_id: searchId }));
    if (more && more.length) {
      fill(related, h("h2", {}, "Related questions"), h("ul", { class: "plain related" },
        more.map((q) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => ask(q) }, q)))));
    }
  }

  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/searches" }, "Search"), " /"),
    title(app.name),
    app.description ? h("p", { class: "muted" }, app.description) : null,
    h("form", {
      class: "panel row", "aria-label": "Ask",
      onsubmit: (ev) => { ev.preventDefault(); if (question.value.trim()) ask(question.value.trim()); },
    }, h("div", { class: "grow" }, field("Question", question)), h("button", { class: "primary", type: "submit" }, "Search")),
    result, related,
    h("details", {}, h("summary", {}, "Settings"),
      h("form", { class: "panel", onsubmit: save, "aria-label": "Search app settings" },
        datasetFieldset(boxes, "Datasets it searches"),
        h("div", { class: "row start knobs" }, field("Similarity threshold", threshold, "passages scoring less are left out"),
          field("Vector similarity weight", weight, "0: words only · 1: meaning only")),
        h("p", {}, h("button", { type: "submit" }, "Save settings")))));
  question.focus({ preventScroll: true });
}
