// Chats: the list (create with datasets and a model, delete) and a conversation: sessions (the last one reopens),
// streamed answers, and citations ([ID:n] in an answer) that open a popover at the marker with the cited passage,
// its place on the page and the page itself.
import { call, del, get, post, stream } from "../api.js";
import { EXTRACTIVE, modelLabel, modelSelect } from "../modelpick.js";
import { drawPages, drawable, pageSource } from "../pageview.js";
import { closeFloating, field, fill, floating, guard, h, pageMap, pager, title, when } from "../ui.js";

const PAGE_SIZE = 20;

/** The datasets a form can tick: the first page of 100 (a picker, not a browser: more are found by name). */
export async function datasetBoxes() {
  const datasets = (await call("GET", "/datasets", { query: { page: 1, page_size: 100 } })).data;
  return datasets.map((d) => h("input", { type: "checkbox", value: d.id, "data-name": d.name }));
}

export function datasetFieldset(boxes, legend = "Datasets it answers from") {
  return h("fieldset", {}, h("legend", {}, legend),
    boxes.length ? h("div", { class: "row" }, boxes.map((b) => h("label", { class: "inline" }, b, b.dataset.name)))
      : h("p", { class: "muted" }, "No datasets yet."));
}

export async function chatsPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true });
  const model = await modelSelect("chat");
  const boxes = await datasetBoxes();
  const topN = h("input", { type: "number", min: 1, max: 30, value: 6 });
  const threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: 0.2 });

  async function load() {
    const res = await call("GET", "/chats", { query: { page, page_size: PAGE_SIZE } });
    const chats = res.data.chats || res.data;
    const total = res.data.total ?? chats.length;
    fill(list, chats.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Chats" },
      h("thead", {}, h("tr", {}, ["Name", "Datasets", "Model"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "hide-narrow" }, "Created"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, chats.map((c) => h("tr", {},
        h("td", {}, h("a", { href: `#/chats/${c.id}` }, c.name)), h("td", {}, (c.kb_names || c.dataset_ids || []).join(", ")),
        h("td", {}, c.llm_id === EXTRACTIVE ? "extractive" : c.llm_id || ""), h("td", { class: "hide-narrow" }, when(c.create_time)),
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
    if (made) location.hash = `#/chats/${made.id}/new`;
  }

  fill(main, title("Chats"),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create a chat" },
      h("div", { class: "row" }, h("div", { class: "grow" }, field("New chat name", name)),
        h("div", { class: "grow" }, field("Chat model", model, h("a", { href: "#/models" }, "Models: add a provider"))),
        field("Chunks to cite (top n)", topN, "passages put in the prompt"),
        field("Similarity threshold", threshold, "passages scoring less are left out")),
      datasetFieldset(boxes),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create chat"))),
    list);
  await load();
}

const CITE = /\[ID:(\d+)\]|##(\d+)\$\$/g;

/** An answer's text with each citation as a marker button (the popover it opens is `open(marker, chunk, n)`). */
export function answer(text, reference, open) {
  const el = h("div", { class: "bubble assistant" });
  let last = 0;
  for (const m of text.matchAll(CITE)) {
    el.append(text.slice(last, m.index));
    const n = Number(m[1] ?? m[2]);
    const chunk = reference && reference.chunks ? reference.chunks[n] : null;
    if (chunk) {
      const marker = h("button", { type: "button", class: "cite", "aria-haspopup": "dialog", "aria-expanded": "false",
        "aria-label": `Citation ${n + 1}: ${chunk.document_name || ""}` }, `${n + 1}`);
      marker.addEventListener("click", () => open(marker, chunk, n));
      el.append(marker);
    }
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
  return el;
}

/** A session's messages as bubbles. A session keeps one reference per answer (RAGFlow's conversation.reference,
 *  in the order of the answers), so earlier answers keep their citations. */
export function showConversation(log, messages, references, open) {
  let answered = 0;
  fill(log, ...messages.map((m, i) => {
    if (m.role === "user") return h("div", { class: "bubble user" }, m.content);
    const isAnswer = i > 0 && messages[i - 1].role === "user";
    return answer(m.content || "", m.reference || (isAnswer ? (references || [])[answered++] : null), open);
  }));
  log.scrollTop = log.scrollHeight;
}

/** The popover of a cited passage: its document, score, text, where it sits on its pages, and (for PDFs and
 *  images) "Show on the page", which draws the page with the passage highlighted. `sources` caches each document's
 *  file for the page visit. */
export function citationOpener(sources) {
  return (marker, chunk, n) => {
    const name = chunk.document_name || chunk.document_id;
    const pages = h("div", { class: "pageviews", "aria-live": "polite" });
    const map = pageMap(chunk.positions);
    let show = null;
    if (map && drawable(name)) {
      const key = chunk.document_id;
      if (!sources.has(key)) sources.set(key, pageSource(`/datasets/${chunk.dataset_id}/documents/${chunk.document_id}`, name));
      show = h("button", {
        type: "button", class: "thumbs",
        onclick: async () => {
          show.disabled = true;
          fill(pages, h("p", { class: "muted" }, "Drawing the page…"));
          const figures = await guard(() => drawPages(sources.get(key), chunk.positions));
          fill(pages, ...(figures || []));
          show.remove();
        },
      }, map, h("span", {}, "Show on the page"));
    }
    floating(marker, `Citation ${n + 1}`,
      h("p", { class: "meta" }, h("span", { class: "mono" }, name), " · ",
        `similarity ${(chunk.similarity ?? 0).toFixed(3)}`, " · ",
        h("a", { href: `#/datasets/${chunk.dataset_id}/documents/${chunk.document_id}`, target: "_blank", rel: "noopener" },
          "open the document's chunks")),
      h("div", { class: "content quote" }, chunk.content),
      show || map, pages);
  };
}

export async function chatPage(main, chatId, sessionId) {
  const chat = await get(`/chats/${chatId}`);
  const sessions = h("ul", { class: "plain" });
  const log = h("div", { class: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const question = h("textarea", { rows: 2, required: true, placeholder: "Ask a question" });
  const sendButton = h("button", { class: "primary", type: "submit" }, "Send");
  const open = citationOpener(new Map());
  let current = sessionId && sessionId !== "new" ? sessionId : null;

  async function loadSessions(pickLast) {
    const list = await get(`/chats/${chatId}/sessions`, { page: 1, page_size: 30, orderby: "update_time", desc: true });
    // coming back to a chat reopens its latest session; "+ New session" (…/new) starts one
    if (pickLast && !current && sessionId !== "new" && list.length) {
      current = list[0].id;
      history.replaceState(null, "", `#/chats/${chatId}/${current}`);
    }
    fill(sessions, ...list.map((s) => h("li", {}, h("a", {
      href: `#/chats/${chatId}/${s.id}`, "aria-current": s.id === current ? "true" : null, title: s.name,
    }, s.name || "session"))));
    return list.find((s) => s.id === current);
  }

  async function ask(ev) {
    ev.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    closeFloating(false);
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
    bubble.replaceWith(answer(full, reference, open));
    sendButton.disabled = false;
    if (current && location.hash !== `#/chats/${chatId}/${current}`) history.replaceState(null, "", `#/chats/${chatId}/${current}`);
    await loadSessions(false);
    question.focus();
  }

  const model = chat.llm_id === EXTRACTIVE
    ? [modelLabel(EXTRACTIVE).split(" — ")[0], " — ", h("a", { href: "#/models" }, "add a provider under Models")]
    : chat.llm_id || "default";
  question.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ask(e); } });
  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/chats" }, "Chats"), " /"),
    title(chat.name),
    h("p", { class: "muted" }, `Answers from ${(chat.kb_names || []).join(", ") || "no dataset"} · model `, model),
    h("div", { class: "chat" },
      h("nav", { class: "sessions", "aria-label": "Sessions" },
        h("a", { class: "button", href: `#/chats/${chatId}/new` }, "+ New session"), sessions),
      h("section", { class: "conversation", "aria-label": "Conversation" }, log,
        h("form", { onsubmit: ask, "aria-label": "Ask" }, field("Your question", question), h("p", {}, sendButton)))));
  const shown = await loadSessions(true);
  showConversation(log, shown ? shown.messages : [{ role: "assistant", content: (chat.prompt_config && chat.prompt_config.prologue) || "" }],
    shown ? shown.reference : [], open);
  question.focus({ preventScroll: true });
}
