// Memories: the list (create, delete) and one memory's messages (paged, each with what was extracted from it; its
// content on demand; switch off, forget) and a search over them by meaning and keywords.
import { call, del, get, post, put } from "../api.js";
import { EXTRACTIVE, modelLabel, modelsOf } from "../modelpick.js";
import { field, fill, floating, guard, h, pager, title, when } from "../ui.js";

const PAGE_SIZE = 20;
const TYPES = { raw: "the conversation as it was", semantic: "facts", episodic: "events", procedural: "how-tos" };

/** A <select> of a type's models with the effective default chosen (memories name their models explicitly). */
async function explicitModel(type) {
  const { models, effective } = await modelsOf(type);
  const names = models.map((m) => `${m.name}@${m.model_provider || m.provider_name}`);
  if (effective && !names.includes(effective)) names.unshift(effective);
  return h("select", {}, names.map((n) => h("option", { value: n, selected: n === effective }, modelLabel(n))));
}

export async function memoriesPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 128 });
  const types = Object.keys(TYPES).map((t) => h("input", { type: "checkbox", value: t, checked: t === "raw" || t === "semantic" }));
  const embedding = await explicitModel("embedding");
  const llm = await explicitModel("chat");

  async function load() {
    const res = await call("GET", "/memories", { query: { page, page_size: PAGE_SIZE } });
    const { memory_list: items, total_count: total } = res.data;
    fill(list, items.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Memories" },
      h("thead", {}, h("tr", {}, ["Name", "Keeps"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "hide-narrow" }, "Models"), h("th", { scope: "col", class: "hide-narrow" }, "Created"),
        h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, items.map((m) => h("tr", { "data-memory": m.id },
        h("td", {}, h("a", { href: `#/memories/${m.id}` }, m.name)), h("td", {}, (m.memory_type || []).join(", ")),
        h("td", { class: "hide-narrow mono" }, `${m.embd_id} · ${m.llm_id === EXTRACTIVE ? "extractive" : m.llm_id}`),
        h("td", { class: "hide-narrow" }, when(m.create_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Delete memory ${m.name}`,
          onclick: async () => {
            if (!confirm(`Delete memory "${m.name}" and all it holds?`)) return;
            if (await guard(() => del(`/memories/${m.id}`), "Memory deleted") !== undefined) load();
          },
        }, "Delete"))))))) : h("p", { class: "muted" }, "No memories yet. An agent writes to a memory it names; so does POST /messages."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function create(ev) {
    ev.preventDefault();
    const body = { name: name.value.trim(), memory_type: types.filter((t) => t.checked).map((t) => t.value),
      embd_id: embedding.value, llm_id: llm.value };
    const made = await guard(() => post("/memories", body), "Memory created");
    if (made) location.hash = `#/memories/${made.id}`;
  }

  fill(main, title("Memories"),
    h("p", { class: "muted" }, "What agents remember across sessions: each message kept, and the facts, events and how-tos a chat model draws from it."),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create a memory" },
      h("div", { class: "row start" }, h("div", { class: "grow" }, field("New memory name", name)),
        field("Embedding model", embedding), h("div", { class: "grow" }, field("Extraction model", llm, "draws facts, events and how-tos from each message"))),
      h("fieldset", {}, h("legend", {}, "What it keeps"), h("div", { class: "row" },
        types.map((t) => h("label", { class: "inline" }, t, `${t.value} (${TYPES[t.value]})`)))),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create memory"))),
    list);
  await load();
}

export async function memoryPage(main, memoryId) {
  let page = 1;
  const config = await get(`/memories/${memoryId}/config`);
  const list = h("div");
  const query = h("input", { type: "search", required: true, placeholder: "what to recall" });
  const found = h("section", { "aria-live": "polite", "aria-label": "Search results" });
  const key = (m) => `${memoryId}:${m.message_id}`;

  function showContent(anchor, m) {
    guard(() => get(`/messages/${key(m)}/content`)).then((c) => c && floating(anchor, `Message ${m.message_id}`,
      h("p", { class: "meta" }, `${m.message_type} · session ${m.session_id || "—"} · agent ${m.agent_id || "—"} · ${m.valid_at}`),
      h("pre", { class: "log-text" }, c.content)));
  }

  function messageRow(m, depth) {
    const opener = h("button", { type: "button", class: "link", "aria-label": `Show message ${m.message_id}`, onclick: () => showContent(opener, m) }, "show");
    const on = h("input", {
      type: "checkbox", checked: m.status, "aria-label": `Use message ${m.message_id}`,
      onchange: async (e) => {
        if (await guard(() => put(`/messages/${key(m)}`, { status: e.target.checked })) === undefined) e.target.checked = !e.target.checked;
      },
    });
    return h("tr", { "data-message": m.message_id, class: depth ? "extracted" : null },
      h("td", { class: "num" }, m.message_id), h("td", {}, depth ? `↳ ${m.message_type}` : m.message_type),
      h("td", { class: "hide-narrow" }, m.session_id || ""), h("td", { class: "hide-narrow" }, m.agent_id || ""),
      h("td", {}, m.valid_at), h("td", {}, on),
      h("td", {}, opener, " ", depth ? null : h("button", {
        type: "button", class: "danger", "aria-label": `Forget message ${m.message_id}`,
        onclick: async () => {
          if (!confirm("Forget this message and what was drawn from it?")) return;
          if (await guard(() => del(`/messages/${key(m)}`), "Forgotten") !== undefined) load();
        },
      }, "Forget")));
  }

  async function load() {
    const data = await get(`/memories/${memoryId}`, { page, page_size: PAGE_SIZE });
    const { message_list: rows, total_count: total } = data.messages;
    fill(list, rows.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Messages" },
      h("thead", {}, h("tr", {}, ["#", "Kind"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col", class: "hide-narrow" }, "Session"),
        h("th", { scope: "col", class: "hide-narrow" }, "Agent"), h("th", { scope: "col" }, "Kept since"), h("th", { scope: "col" }, "In use"),
        h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, rows.flatMap((m) => [messageRow(m, 0), ...(m.extract || []).map((x) => messageRow(x, 1))])))) : h("p", { class: "muted" }, "No messages yet."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function search(ev) {
    ev.preventDefault();
    const hits = await guard(() => get("/messages/search", { query: query.value.trim(), memory_id: memoryId }));
    if (!hits) return;
    fill(found, h("p", { class: "muted" }, `${hits.length} found`), h("div", { class: "cards" }, hits.map((m) => h("article", { class: "card result", "data-message": m.message_id },
      h("header", {}, h("span", {}, `#${m.message_id} · ${m.message_type}`), h("span", { class: "spacer" }), h("span", {}, "similarity ", h("b", {}, Number(m.similarity || 0).toFixed(3)))),
      h("div", { class: "content" }, m.content)))));
  }

  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/memories" }, "Memories"), " /"),
    title(config.name),
    h("p", { class: "muted" }, `Keeps ${(config.memory_type || []).join(", ")} · ${config.embd_id} · ${Math.round((config.memory_size || 0) / 1024)} KB at most, oldest forgotten first`),
    h("form", { class: "panel row", onsubmit: search, "aria-label": "Search the memory" },
      h("div", { class: "grow" }, field("Recall", query, "searched by meaning and keywords")), h("button", { class: "primary", type: "submit" }, "Search")),
    found, h("h2", {}, "Messages"), list);
  await load();
}
