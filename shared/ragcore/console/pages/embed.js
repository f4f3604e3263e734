// Embedded bots: the snippet that puts a chat or an agent on another site (an iframe of this console's share page,
// authorised by a key's beta token — public by design: it only opens the bot routes), and the share page itself,
// which talks to /chatbots and /agentbots with that token and nothing else.
import { agentStream, call, get, stream, withToken } from "../api.js";
import { field, fill, guard, h, title, toast } from "../ui.js";
import { answer } from "./chats.js";

/** The address of a bot's share page for this console. */
export function shareUrl(kind, id, beta) {
  return `${location.origin}${location.pathname}#/share/${kind}/${id}?auth=${encodeURIComponent(beta)}`;
}

export async function embedPage(main) {
  const [tokens, chats, agents] = await Promise.all([get("/system/tokens"),
    call("GET", "/chats", { query: { page: 1, page_size: 100 } }), call("GET", "/agents", { query: { page: 1, page_size: 100 } })]);
  const chatList = chats.data.chats || chats.data;
  const agentList = agents.data.canvas || [];
  fill(main, title("Embed"));
  if (!tokens.length) {
    main.append(h("p", {}, "An embedded bot is authorised by the beta token of an API key: ",
      h("a", { href: "#/keys" }, "create an API key"), " first."));
    return;
  }
  const key = h("select", {}, tokens.map((t) => h("option", { value: t.beta }, t.token)));
  const bot = h("select", {},
    chatList.length ? h("optgroup", { label: "Chats" }, chatList.map((c) => h("option", { value: `chat:${c.id}` }, c.name))) : null,
    agentList.length ? h("optgroup", { label: "Agents" }, agentList.map((a) => h("option", { value: `agent:${a.id}` }, a.title))) : null);
  const snippet = h("textarea", { rows: 4, class: "mono", readonly: true, spellcheck: "false" });
  const preview = h("a", { target: "_blank", rel: "noopener" }, "Open the bot in a new tab");
  const sync = () => {
    if (!bot.value) { snippet.value = ""; return; }
    const [kind, id] = bot.value.split(":");
    const src = shareUrl(kind, id, key.value);
    snippet.value = `<iframe src="${src}" style="width: 100%; height: 100%; min-height: 600px" frameborder="0"></iframe>`;
    preview.href = src;
  };
  key.addEventListener("change", sync);
  bot.addEventListener("change", sync);
  sync();
  main.append(
    h("p", { class: "muted" }, "Paste the snippet into a web page: visitors talk to the bot without logging in. The token in it opens only the bot routes; revoking its API key revokes it."),
    chatList.length || agentList.length ? h("form", { class: "panel", "aria-label": "Embed a bot", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "row start" }, h("div", { class: "grow" }, field("Bot", bot)), h("div", { class: "grow" }, field("API key whose beta token it uses", key))),
      field("Snippet", snippet),
      h("p", { class: "row" }, h("button", {
        type: "button", class: "primary",
        onclick: () => guard(() => navigator.clipboard.writeText(snippet.value)).then(() => toast("Snippet copied")),
      }, "Copy snippet"), preview))
      : h("p", {}, "Make a ", h("a", { href: "#/chats" }, "chat"), " or an ", h("a", { href: "#/agents" }, "agent"), " first."));
}

/** The share page (no login: the beta token in its address). */
export async function sharePage(main, kind, id, query) {
  const beta = new URLSearchParams(query || "").get("auth") || "";
  const info = kind === "chat" ? await withToken(beta, "GET", `/chatbots/${id}/info`) : await withToken(beta, "GET", `/agentbots/${id}/inputs`);
  const log = h("div", { class: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const question = h("textarea", { rows: 2, required: true, placeholder: "Ask a question" });
  const send = h("button", { class: "primary", type: "submit" }, "Send");
  const visitor = `visitor-${Math.random().toString(36).slice(2, 10)}`;
  let session = null;
  const noCitations = () => {};
  if (info.prologue) log.append(h("div", { class: "bubble assistant" }, info.prologue));

  async function ask(ev) {
    ev.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    question.value = "";
    send.disabled = true;
    log.append(h("div", { class: "bubble user" }, text));
    const bubble = h("div", { class: "bubble assistant" }, "…");
    log.append(bubble);
    let full = "";
    if (kind === "chat") {
      if (!session) {  // the first call opens a session and answers with the prologue
        await guard(() => stream(`/chatbots/${id}/completions`, { question: text, user_id: visitor }, (d) => { session = d.session_id; }, beta));
      }
      await guard(() => stream(`/chatbots/${id}/completions`, { question: text, session_id: session, user_id: visitor }, (d) => {
        full += d.answer || "";
        bubble.textContent = full;
      }, beta));
    } else {
      const req = { query: text, stream: true, user_id: visitor };
      if (session) req.session_id = session;
      await guard(() => agentStream(`/agentbots/${id}/completions`, req, (e) => {
        if (e.session_id) session = e.session_id;
        if (e.event === "message") { full += e.data.content || ""; bubble.textContent = full; }
      }, beta));
    }
    bubble.replaceWith(answer(full, null, noCitations));
    log.scrollTop = log.scrollHeight;
    send.disabled = false;
    question.focus();
  }

  question.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ask(e); } });
  document.title = info.title || "Assistant";
  fill(main, h("section", { class: "share" }, h("h1", {}, info.title || "Assistant"), log,
    h("form", { onsubmit: ask, "aria-label": "Ask" }, field("Your question", question), h("p", {}, send))));
  question.focus();
}
