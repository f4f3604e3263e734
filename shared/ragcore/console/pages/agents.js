// Agents: the list (create from a template or a pasted DSL, delete) and one agent: run it with its Begin
// component's inputs and a streamed answer, in sessions; its saved versions; its DSL, read-only (no canvas editor).
import { agentStream, call, del, get, post } from "../api.js";
import { field, fill, guard, h, pager, title, toast, when } from "../ui.js";
import { answer, citationOpener, datasetBoxes, datasetFieldset, showConversation } from "./chats.js";

const PAGE_SIZE = 20;

/** A DSL from {id: [component, params, downstream]}: the upstream lists and globals RAGFlow's canvas keeps. */
function graph(nodes) {
  const components = {};
  for (const [id, [name, params, to]] of Object.entries(nodes)) {
    components[id] = { obj: { component_name: name, params }, downstream: to,
      upstream: Object.entries(nodes).filter(([, n]) => n[2].includes(id)).map(([src]) => src) };
  }
  return { components, history: [], path: [], retrieval: [], variables: {},
    globals: { "sys.query": "", "sys.user_id": "", "sys.conversation_turns": 0, "sys.files": [] } };
}

// Templates ship with the console (the API serves none): each a DSL the server's agent engine runs.
export const TEMPLATES = {
  datasets: {
    name: "Answer from datasets",
    about: "Searches the datasets you tick, then the chat model answers from what it found (quoting it when no language model is configured).",
    datasets: true,
    dsl: (kbIds) => graph({
      begin: ["Begin", { prologue: "Hi! Ask me about your documents.", mode: "conversational" }, ["retrieval:0"]],
      "retrieval:0": ["Retrieval", { kb_ids: kbIds, top_n: 6, similarity_threshold: 0.2 }, ["llm:0"]],
      "llm:0": ["LLM", { sys_prompt: "Answer the question from this knowledge only, citing it:\n{retrieval:0@formalized_content}",
        prompts: [{ role: "user", content: "{sys.query}" }], temperature: 0.1 }, ["message:0"]],
      "message:0": ["Message", { content: ["{llm:0@content}"] }, []],
    }),
  },
  form: {
    name: "Form with inputs",
    about: "Asks for a name and a tone before the conversation, then answers with them: shows how Begin inputs reach the flow.",
    dsl: () => graph({
      begin: ["Begin", { prologue: "Fill in the form, then say something.", mode: "conversational", inputs: {
        name: { name: "Your name", type: "line", optional: false },
        tone: { name: "Tone", type: "options", options: ["friendly", "formal"], optional: true },
      } }, ["message:0"]],
      "message:0": ["Message", { content: ["Hello {begin@name} ({begin@tone}): you said “{sys.query}”."] }, []],
    }),
  },
  echo: {
    name: "Echo",
    about: "Repeats the question: the smallest flow, a starting point for a pasted DSL.",
    dsl: () => graph({ begin: ["Begin", { mode: "conversational" }, ["message:0"]], "message:0": ["Message", { content: ["{sys.query}"] }, []] }),
  },
};

export async function agentsPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 255 });
  const description = h("input", { type: "text" });
  const start = h("select", {}, Object.entries(TEMPLATES).map(([k, t]) => h("option", { value: k }, `Template: ${t.name}`)),
    h("option", { value: "paste" }, "Paste a DSL (JSON)"));
  const about = h("span", { class: "muted help" });
  const pasted = h("textarea", { rows: 10, class: "mono", spellcheck: "false", placeholder: '{"components": {"begin": …}}' });
  const pasteField = field("DSL (JSON)", pasted, "RAGFlow's canvas DSL, as exported from RAGFlow or an agent's DSL tab");
  const boxes = await datasetBoxes();
  const picks = datasetFieldset(boxes, "Datasets it searches");
  const keywords = h("input", { type: "search", placeholder: "part of a title" });
  const sync = () => {
    const t = TEMPLATES[start.value];
    about.textContent = t ? t.about : "The DSL is checked when it is saved: an unknown component is refused with its name.";
    pasteField.hidden = Boolean(t);
    picks.hidden = !(t && t.datasets);
  };
  start.addEventListener("change", sync);
  sync();

  async function load() {
    const res = await call("GET", "/agents", { query: { page, page_size: PAGE_SIZE, orderby: "update_time", desc: true, keywords: keywords.value.trim() } });
    const { canvas, total } = res.data;
    fill(list, canvas.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Agents" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Title"), h("th", { scope: "col", class: "hide-narrow" }, "Description"),
        h("th", { scope: "col" }, "Updated"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, canvas.map((a) => h("tr", { "data-agent": a.id },
        h("td", {}, h("a", { href: `#/agents/${a.id}` }, a.title)), h("td", { class: "hide-narrow" }, a.description || ""),
        h("td", {}, when(a.update_time)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "aria-label": `Delete agent ${a.title}`,
          onclick: async () => {
            if (!confirm(`Delete agent "${a.title}" and its sessions?`)) return;
            if (await guard(() => del(`/agents/${a.id}`), "Agent deleted") !== undefined) load();
          },
        }, "Delete"))))))) : h("p", { class: "muted" }, "No agents yet: start from a template above."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function create(ev) {
    ev.preventDefault();
    let dsl;
    const t = TEMPLATES[start.value];
    if (t) dsl = t.dsl(boxes.filter((b) => b.checked).map((b) => b.value));
    else {
      try { dsl = JSON.parse(pasted.value); } catch { toast("The DSL is not valid JSON.", "error"); return; }
      if (dsl && dsl.dsl && !dsl.components) dsl = dsl.dsl;  // an exported agent: its DSL
    }
    if (t && t.datasets && !dsl.components["retrieval:0"].obj.params.kb_ids.length) { toast("Tick a dataset to search.", "error"); return; }
    const body = { title: name.value.trim(), dsl };
    if (description.value.trim()) body.description = description.value.trim();
    const made = await guard(() => post("/agents", body), "Agent created");
    if (made) location.hash = `#/agents/${made.id}`;
  }

  let debounce = null;
  keywords.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { page = 1; load(); }, 300); });
  fill(main, title("Agents"),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create an agent" },
      h("div", { class: "row start" }, h("div", { class: "grow" }, field("New agent title", name)),
        h("div", { class: "grow" }, field("Start from", start, about)), h("div", { class: "grow" }, field("Description", description))),
      picks, pasteField,
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create agent"))),
    h("div", { class: "row", role: "search" }, h("div", { class: "grow" }, field("Filter by title", keywords))),
    list);
  await load();
}

/** The controls for a Begin component's inputs ({key: {name, type, optional, options}}): [element, value()]. */
function inputControl(key, spec) {
  const label = spec.name || key;
  const required = spec.optional === false || spec.optional === undefined && spec.required === true;
  let control;
  if (spec.type === "paragraph") control = h("textarea", { rows: 3, required });
  else if (spec.type === "options") control = h("select", { required }, (spec.optional !== false ? [h("option", { value: "" }, "—")] : []),
    (spec.options || []).map((o) => h("option", { value: o }, o)));
  else if (spec.type === "integer" || spec.type === "float") control = h("input", { type: "number", step: spec.type === "integer" ? 1 : "any", required });
  else if (spec.type === "boolean") control = h("input", { type: "checkbox" });
  else control = h("input", { type: "text", required });
  const value = () => (spec.type === "boolean" ? control.checked
    : spec.type === "integer" || spec.type === "float" ? (control.value === "" ? "" : Number(control.value)) : control.value);
  const el = spec.type === "boolean" ? h("label", { class: "inline" }, control, label) : field(label, control, spec.type === "file" ? "files are not sent from here" : null);
  return { key, type: spec.type || "line", el, value, skip: spec.type === "file" };
}

export async function agentPage(main, agentId, tab = "run", sessionId) {
  const agent = await get(`/agents/${agentId}`);
  const tabs = [["run", "Run"], ["versions", "Versions"], ["dsl", "DSL"]];
  const body = h("section");
  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/agents" }, "Agents"), " /"),
    title(agent.title),
    agent.description ? h("p", { class: "muted" }, agent.description) : null,
    h("nav", { class: "tabs", "aria-label": "Agent" }, tabs.map(([key, text]) =>
      h("a", { href: `#/agents/${agentId}/${key}`, "aria-current": key === tab ? "page" : null }, text))),
    body);
  if (tab === "versions") return versionsTab(body, agentId);
  if (tab === "dsl") return dslTab(body, agent);
  return runTab(body, agent, sessionId);
}

async function runTab(body, agent, sessionId) {
  const begin = Object.values(agent.dsl.components || {}).find((c) => c.obj && c.obj.component_name === "Begin");
  const params = (begin && begin.obj.params) || {};
  const inputs = Object.entries(params.inputs || {}).map(([k, spec]) => inputControl(k, spec || {}));
  const sessions = h("ul", { class: "plain" });
  const log = h("div", { class: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const status = h("p", { class: "muted small", "aria-live": "polite" });
  const question = h("textarea", { rows: 2, placeholder: "Ask the agent", required: params.mode !== "task" });
  const runButton = h("button", { class: "primary", type: "submit" }, "Run");
  const open = citationOpener(new Map());
  let current = sessionId && sessionId !== "new" ? sessionId : null;
  const base = `#/agents/${agent.id}/run`;

  async function loadSessions(pickLast) {
    const list = await get(`/agents/${agent.id}/sessions`, { page: 1, page_size: 30, orderby: "update_time", desc: true, dsl: false });
    if (pickLast && !current && sessionId !== "new" && list.length) {
      current = list[0].id;
      history.replaceState(null, "", `${base}/${current}`);
    }
    fill(sessions, ...list.map((s) => h("li", {}, h("a", {
      href: `${base}/${s.id}`, "aria-current": s.id === current ? "true" : null, title: s.name || when(s.create_time),
    }, s.name || when(s.create_time)))));
    return list.find((s) => s.id === current);
  }

  async function run(ev) {
    ev.preventDefault();
    const text = question.value.trim();
    if (!text && params.mode !== "task") return;
    const req = { agent_id: agent.id, query: text, stream: true, inputs: {} };
    for (const i of inputs.filter((x) => !x.skip)) {
      const v = i.value();
      if (v !== "") req.inputs[i.key] = { type: i.type, value: v };
    }
    if (current) req.session_id = current;
    question.value = "";
    runButton.disabled = true;
    if (text) log.append(h("div", { class: "bubble user" }, text));
    const bubble = h("div", { class: "bubble assistant" }, "…");
    log.append(bubble);
    let full = "";
    let reference = null;
    await guard(() => agentStream("/agents/chat/completions", req, (e) => {
      if (e.session_id && !current) current = e.session_id;
      if (e.event === "node_started") status.textContent = `Running ${e.data.component_name} (${e.data.component_id})…`;
      if (e.event === "message") { full += e.data.content || ""; bubble.textContent = full; log.scrollTop = log.scrollHeight; }
      if (e.event === "message_end" && e.data && e.data.reference && e.data.reference.chunks) reference = e.data.reference;
      if (e.event === "workflow_finished") status.textContent = `Finished in ${Number(e.data.elapsed_time || 0).toFixed(2)} s`;
    }));
    bubble.replaceWith(answer(full, reference, open));
    runButton.disabled = false;
    if (current) history.replaceState(null, "", `${base}/${current}`);
    await loadSessions(false);
    question.focus({ preventScroll: true });
  }

  question.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); run(e); } });
  body.append(h("div", { class: "chat" },
    h("nav", { class: "sessions", "aria-label": "Sessions" }, h("a", { class: "button", href: `${base}/new` }, "+ New session"), sessions),
    h("section", { class: "conversation", "aria-label": "Run" }, log, status,
      h("form", { onsubmit: run, "aria-label": "Run the agent" },
        inputs.length ? h("fieldset", {}, h("legend", {}, "Inputs (the Begin component's)"), h("div", { class: "row start" }, inputs.map((i) => i.el))) : null,
        field(params.mode === "task" ? "Message (optional)" : "Your message", question), h("p", {}, runButton)))));
  const shown = await loadSessions(true);
  showConversation(log, shown ? shown.message || [] : params.prologue ? [{ role: "assistant", content: params.prologue }] : [],
    shown ? shown.reference : [], open);
}

async function versionsTab(body, agentId) {
  const shown = h("div", { "aria-live": "polite" });
  const versions = await get(`/agents/${agentId}/versions`);
  body.append(h("p", { class: "muted" }, "Each save of the DSL keeps a version."),
    versions.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Versions" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "Saved"), h("th", { scope: "col" }, h("span", { class: "muted" }, "DSL")))),
      h("tbody", {}, versions.map((v) => h("tr", { "data-version": v.id }, h("td", { class: "mono" }, v.title), h("td", {}, when(v.update_time || v.create_time)),
        h("td", {}, h("button", {
          type: "button", "aria-label": `Show the DSL of ${v.title}`,
          onclick: async () => {
            const full = await guard(() => get(`/agents/${agentId}/versions/${v.id}`));
            if (full) fill(shown, h("h2", {}, v.title), dslView(full.dsl));
          },
        }, "Show"))))))) : h("p", { class: "muted" }, "No versions."),
    shown);
}

function dslView(dsl) {
  const rows = Object.entries((dsl && dsl.components) || {}).map(([id, c]) => h("tr", {},
    h("td", { class: "mono" }, id), h("td", {}, c.obj && c.obj.component_name), h("td", { class: "mono" }, (c.downstream || []).join(", "))));
  return h("div", {},
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Components" },
      h("thead", {}, h("tr", {}, ["Component", "Kind", "Leads to"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows))),
    h("pre", { class: "dsl", tabindex: "0", "aria-label": "DSL (read-only)" }, JSON.stringify(dsl, null, 2)));
}

function dslTab(body, agent) {
  body.append(h("p", { class: "muted" }, "The DSL as saved, read-only: edit it in RAGFlow's canvas or by hand and create a new agent from it (Agents → Paste a DSL)."),
    dslView(agent.dsl));
}
