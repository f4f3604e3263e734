// Chats: the list (create with datasets and a model, delete) and a conversation: sessions, streamed answers,
// and citations ([ID:n] in an answer) that open the cited chunk.
import { call, del, get, post, stream } from "../api.js";
import { field, guard, h, pageMap, pager, title, when } from "../ui.js";
import { modelOptions } from "./datasets.js";

const PAGE_SIZE = 20;

export async function chatsPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true });
  const model = h("select", {}, h("option", { value: "" }, "tenant default"));
  for (const m of await modelOptions("chat")) model.append(h("option", { value: m }, m));
  const datasets = (await call("GET", "/datasets", { query: { page: 1, page_size: 100 } })).data;
  const boxes = datasets.map((d) => h("input", { type: "checkbox", value: d.id, "data-name": d.name }));
  const topN = h("input", { type: "number", min: 1, max: 30, value: 6 });
  const threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: 0.2 });

  async function load() {
    const res = await call("GET", "/chats", { query: { page, page_size: PAGE_SIZE } });
    const chats = res.data.chats || res.data;
    const total = res.data.total ?? chats.length;
    list.replaceChildren(chats.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Chats" },
      h("thead", {}, h("tr", {}, ["Name", "Datasets", "Model"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "hide-narrow" }, "Created"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, chats.map((c) => h("tr", {},
        h("td", {}, h("a", { href: `#/chats/${c.id}` }, c.name)), h("td", {}, (c.kb_names || c.dataset_ids || []).join(", ")),
        h("td", {}, c.llm_id || ""), h("td", { class: "hide-narrow" }, when(c.create_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Delete chat ${c.name}`,
          onclick: async () => {
            if (!confirm(`Delete chat "${c.name}" and its sessions?`)) return;
            if (await guard(() => del("/chats", { ids: [c.id] }), "Chat deleted") !== undefined) load();
          },
        }, "Delete"))))))) : h("p", { class: "muted" }, "No chats yet."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function create(ev) {
    ev.preventDefault();
    const body = { name: name.value.trim(), dataset_ids: boxes.filter((b) => b.checked).map((b) => b.value),
      similarity_threshold: Number(threshold.value), top_n: Number(topN.value) };
    if (model.value) body.llm_id = model.value;
    const made = await guard(() => post("/chats", body), "Chat created");
    if (made) location.hash = `#/chats/${made.id}`;
  }

  main.replaceChildren(title("Chats"),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create a chat" },
      h("div", { class: "row" }, h("div", { class: "grow" }, field("New chat name", name)), field("Chat model", model),
        field("Chunks to cite (top n)", topN), field("Similarity threshold", threshold)),
      h("fieldset", {}, h("legend", {}, "Datasets it answers from"),
        boxes.length ? h("div", { class: "row" }, boxes.map((b) => h("label", { class: "inline" }, b, b.dataset.name)))
          : h("p", { class: "muted" }, "No datasets yet.")),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create chat"))),
    list);
  await load();
}

const CITE = /\[ID:(\d+)\]|##(\d+)\$\$/g;

/** An answer's text with each citation as a button that shows the cited chunk. */
function answer(text, reference, show) {
  const el = h("div", { class: "bubble assistant" });
  let last = 0;
  for (const m of text.matchAll(CITE)) {
    el.append(text.slice(last, m.index));
    const n = Number(m[1] ?? m[2]);
    const chunk = reference && reference.chunks ? reference.chunks[n] : null;
    el.append(chunk ? h("button", { type: "button", class: "cite", "aria-label": `Citation ${n + 1}: ${chunk.document_name || ""}`, onclick: () => show(chunk, n) }, `${n + 1}`)
      : "");
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
  return el;
}

export async function chatPage(main, chatId, sessionId) {
  const chat = await get(`/chats/${chatId}`);
  const sessions = h("nav", { class: "sessions", "aria-label": "Sessions" });
  const log = h("div", { class: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const cited = h("aside", { "aria-live": "polite", "aria-label": "Cited chunk" });
  const question = h("textarea", { rows: 2, required: true, placeholder: "Ask a question" });
  const sendButton = h("button", { class: "primary", type: "submit" }, "Send");
  let current = sessionId || null;

  function show(chunk, n) {
    cited.replaceChildren(h("article", { class: "card citation", tabindex: "-1" },
      h("header", {}, h("span", {}, `Citation ${n + 1}`),
        h("a", { href: `#/datasets/${chunk.dataset_id}/documents/${chunk.document_id}` }, chunk.document_name || chunk.document_id),
        h("span", { class: "spacer" }), h("span", {}, `similarity ${(chunk.similarity ?? 0).toFixed(3)}`)),
      h("div", { class: "content" }, chunk.content), pageMap(chunk.positions)));
    cited.firstChild.focus();
  }

  function render(messages) {
    log.replaceChildren(...messages.map((m) => (m.role === "user" ? h("div", { class: "bubble user" }, m.content)
      : answer(m.content || "", m.reference, show))));
    log.scrollTop = log.scrollHeight;
  }

  async function loadSessions() {
    const list = await get(`/chats/${chatId}/sessions`, { page: 1, page_size: 30, orderby: "update_time" });
    sessions.replaceChildren(h("button", { type: "button", onclick: () => { location.hash = `#/chats/${chatId}`; } }, "+ New session"),
      ...list.map((s) => h("a", { href: `#/chats/${chatId}/${s.id}`, "aria-current": s.id === current ? "true" : null, title: s.name }, s.name || "session")));
    const open = list.find((s) => s.id === current);
    render(open ? open.messages : [{ role: "assistant", content: (chat.prompt_config && chat.prompt_config.prologue) || "" }]);
  }

  async function ask(ev) {
    ev.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    question.value = "";
    sendButton.disabled = true;
    log.append(h("div", { class: "bubble user" }, text));
    const bubble = h("div", { class: "bubble assistant" }, "…");
    log.append(bubble);
    let full = "";
    let reference = null;
    const req = { question: text, stream: true };
    if (current) req.session_id = current;
    await guard(() => stream(`/chats/${chatId}/completions`, req, (data) => {
      if (data.session_id && !current) current = data.session_id;
      full += data.answer || "";
      if (data.reference && data.reference.chunks) reference = data.reference;
      bubble.textContent = full;
      log.scrollTop = log.scrollHeight;
    }));
    bubble.replaceWith(answer(full, reference, show));
    sendButton.disabled = false;
    if (current && location.hash !== `#/chats/${chatId}/${current}`) history.replaceState(null, "", `#/chats/${chatId}/${current}`);
    const keep = [...log.childNodes];
    await loadSessions();
    log.replaceChildren(...keep);
    question.focus();
  }

  question.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ask(e); } });
  main.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: "#/chats" }, "Chats"), " /"),
    title(chat.name),
    h("p", { class: "muted" }, `Answers from ${(chat.kb_names || []).join(", ") || "no dataset"} · model ${chat.llm_id || "default"}`),
    h("div", { class: "chat" }, sessions,
      h("section", { "aria-label": "Conversation" }, log,
        h("form", { onsubmit: ask, "aria-label": "Ask" }, field("Your question", question), h("p", {}, sendButton)),
        cited)));
  await loadSessions();
  question.focus();
}
