// Datasets: the list (create, delete) and one dataset's tabs: documents, retrieval testing, settings.
import { call, del, get, post, put } from "../api.js";
import { modelSelect } from "../modelpick.js";
import { field, fill, guard, h, methodField, pager, title, toast, when } from "../ui.js";
import { documentsTab } from "./documents.js";
import { retrievalTab } from "./retrieval.js";

const PAGE_SIZE = 20;

export async function datasetsPage(main) {
  let page = 1;
  const list = h("div");
  const name = h("input", { type: "text", required: true, maxlength: 128 });
  const method = methodField("Chunk method");
  const embedding = await modelSelect("embedding");

  function card(d) {
    return h("li", { class: "card dataset", "data-dataset": d.id },
      h("h2", {}, h("a", { href: `#/datasets/${d.id}` }, d.name)),
      h("p", { class: d.description ? "desc" : "desc muted" }, d.description || "No description."),
      h("p", { class: "stats" }, h("b", {}, d.document_count ?? 0), ` document${d.document_count === 1 ? "" : "s"} · `,
        h("b", {}, d.chunk_count ?? 0), ` chunk${d.chunk_count === 1 ? "" : "s"} · ${d.chunk_method}`),
      h("p", { class: "muted small" }, `${d.embedding_model} · created ${when(d.create_time)}`),
      h("p", { class: "row end" }, h("button", {
        type: "button", class: "danger", "aria-label": `Delete dataset ${d.name}`,
        onclick: async () => {
          if (!confirm(`Delete dataset "${d.name}" and all its documents?`)) return;
          if (await guard(() => del("/datasets", { ids: [d.id] }), "Dataset deleted") !== undefined) load();
        },
      }, "Delete")));
  }

  async function load() {
    const body = await call("GET", "/datasets", { query: { page, page_size: PAGE_SIZE, orderby: "create_time", desc: true } });
    fill(list, 
      body.data.length ? h("ul", { class: "plain card-grid", "aria-label": "Datasets" }, body.data.map(card))
        : h("p", { class: "muted" }, "No datasets yet: create one above."),
      pager(page, PAGE_SIZE, body.total_datasets ?? body.total ?? body.data.length, (p) => { page = p; load(); }));
  }

  async function create(ev) {
    ev.preventDefault();
    const body = { name: name.value.trim(), chunk_method: method.select.value };
    if (embedding.value) body.embedding_model = embedding.value;
    const made = await guard(() => post("/datasets", body), "Dataset created");
    if (made) location.hash = `#/datasets/${made.id}`;
  }

  fill(main, title("Datasets"),
    h("form", { class: "panel", onsubmit: create, "aria-label": "Create a dataset" },
      h("div", { class: "row start" }, h("div", { class: "grow" }, field("New dataset name", name)),
        h("div", { class: "grow" }, method.field), field("Embedding model", embedding)),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Create dataset"))),
    list);
  await load();
}

export async function datasetPage(main, id, tab = "documents") {
  const ds = (await call("GET", "/datasets", { query: { id } })).data[0];
  if (!ds) throw new Error(`No dataset ${id}`);
  const tabs = [["documents", "Documents"], ["retrieval", "Retrieval testing"], ["settings", "Settings"]];
  const body = h("section");
  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/datasets" }, "Datasets"), " / "),
    title(ds.name),
    h("nav", { class: "tabs", "aria-label": "Dataset" }, tabs.map(([key, text]) =>
      h("a", { href: `#/datasets/${id}/${key}`, "aria-current": key === tab ? "page" : null }, text))),
    body);
  if (tab === "retrieval") return retrievalTab(body, ds);
  if (tab === "settings") return settingsTab(body, ds);
  return documentsTab(body, ds);
}

const PARSER_FIELDS = [
  ["chunk_token_num", "Chunk size (tokens)", "number", "about this many tokens a chunk (general method)"],
  ["delimiter", "Delimiters (\\n is a new line)", "escaped", "text is cut at these"],
  ["layout_recognize", "PDF layout recognition", "text", "DeepDOC: titles, tables and reading order · Plain Text: the text layer"],
  ["auto_keywords", "Auto keywords per chunk", "number", "added by the chat model; 0: none"],
  ["auto_questions", "Auto questions per chunk", "number", "written by the chat model; 0: none"],
  ["html4excel", "Spreadsheets as HTML tables", "checkbox"],
];

// a one-line input cannot hold a new line: delimiters show \n and \t as RAGFlow's console does
const escapeControls = (text) => String(text).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
const unescapeControls = (text) => text.replace(/\\(n|t|\\)/g, (_, c) => ({ n: "\n", t: "\t", "\\": "\\" })[c]);

async function settingsTab(body, ds) {
  const name = h("input", { type: "text", value: ds.name, required: true });
  const description = h("textarea", { rows: 2 }, ds.description || "");
  const method = methodField("Chunk method", ds.chunk_method);
  const permission = h("select", {}, ["me", "team"].map((p) => h("option", { value: p, selected: p === ds.permission }, p)));
  const pc = ds.parser_config || {};
  const inputs = {};
  for (const [key, , kind] of PARSER_FIELDS) {
    inputs[key] = kind === "checkbox" ? h("input", { type: "checkbox", checked: Boolean(pc[key]) })
      : kind === "escaped" ? h("input", { type: "text", value: escapeControls(pc[key] ?? "") })
        : h("input", { type: kind, value: pc[key] ?? "" });
  }
  const raw = h("textarea", { rows: 12, class: "mono", spellcheck: "false" }, JSON.stringify(pc, null, 2));

  async function save(ev) {
    ev.preventDefault();
    let parser;
    try { parser = JSON.parse(raw.value || "{}"); } catch { toast("parser_config is not valid JSON", "error"); return; }
    for (const [key, , kind] of PARSER_FIELDS) {
      const el = inputs[key];
      if (kind === "checkbox") parser[key] = el.checked;
      else if (kind === "number") { if (el.value !== "") parser[key] = Number(el.value); }
      else if (kind === "escaped") parser[key] = unescapeControls(el.value);
      else parser[key] = el.value;
    }
    const update = { name: name.value.trim(), description: description.value, chunk_method: method.select.value,
      permission: permission.value, parser_config: parser };
    if (update.chunk_method !== ds.chunk_method) delete update.parser_config;  // the new method's defaults apply
    const saved = await guard(() => put(`/datasets/${ds.id}`, update), "Settings saved");
    if (saved !== undefined) location.reload();
  }

  body.append(h("form", { class: "panel", onsubmit: save, "aria-label": "Dataset settings" },
    h("div", { class: "row start" }, h("div", { class: "grow" }, field("Name", name)), h("div", { class: "grow" }, method.field),
      field("Permission", permission, "team: your team's members can read and search it")),
    field("Description", description),
    h("p", { class: "muted" }, `Embedding model: ${ds.embedding_model}`),
    h("h2", {}, "Parser settings (parser_config)"),
    h("div", { class: "row knobs" }, PARSER_FIELDS.map(([key, text, kind, hint]) =>
      kind === "checkbox" ? h("label", { class: "inline" }, inputs[key], text) : field(text, inputs[key], hint))),
    h("details", {}, h("summary", {}, "All parser_config fields (JSON)"), field("parser_config", raw,
      "Fields above override the same keys here. Changing the chunk method resets parser_config to that method's defaults.")),
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Save settings"))));
}
