// A dataset's documents: drag-and-drop upload (presigned PUT for large files), parse/stop with live progress,
// failures with their reason, and filters/paging done by the API (page, page_size, keywords, run).
import { call, del, post, putBytes, upload } from "../api.js";
import { field, fill, floating, floatingIsOpen, guard, h, pager, size, toast, when } from "../ui.js";

const PAGE_SIZE = 20;
// above this a file goes to a presigned URL (API Gateway caps bodies at 10 MB); localStorage can lower it to try
// that path with small files
const LARGE = Number(localStorage.getItem("ragflow-console.presigned-over")) || 8 * 1024 * 1024;
const RUNS = ["UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL"];

export async function documentsTab(body, ds) {
  let page = 1;
  let timer = null;
  let alive = true;
  const selected = new Set();
  const keywords = h("input", { type: "search", placeholder: "part of a name" });
  const run = h("select", {}, h("option", { value: "" }, "any status"), RUNS.map((r) => h("option", { value: r }, r)));
  const parseOnUpload = h("input", { type: "checkbox", checked: true });
  const picker = h("input", { type: "file", multiple: true, class: "visually-hidden", "aria-label": "Files to upload", tabindex: "-1", onchange: () => send([...picker.files]) });
  const uploads = h("ul", { class: "muted", "aria-live": "polite" });
  const table = h("div");

  async function send(files) {
    if (!files.length) return;
    const small = files.filter((f) => f.size <= LARGE);
    const large = files.filter((f) => f.size > LARGE);
    const ids = [];
    if (small.length) {
      const line = h("li", {}, `Uploading ${small.length} file(s)…`);
      uploads.append(line);
      const form = new FormData();
      for (const f of small) form.append("file", f, f.name);
      const made = await guard(() => upload(`/datasets/${ds.id}/documents`, form,
        (p) => { line.textContent = `Uploading ${small.length} file(s): ${Math.round(p * 100)}%`; }));
      line.textContent = made ? `Uploaded ${made.map((d) => d.name).join(", ")}` : "Upload failed";
      if (made) ids.push(...made.map((d) => d.id));
    }
    for (const f of large) {
      const line = h("li", {}, `${f.name}: asking for an upload URL…`);
      uploads.append(line);
      const grant = await guard(() => post(`/datasets/${ds.id}/documents/upload_url`, { name: f.name }));
      if (!grant) { line.textContent = `${f.name}: failed`; continue; }
      const done = await guard(() => putBytes(grant.upload_url, f, (p) => { line.textContent = `${f.name}: ${Math.round(p * 100)}%`; }).then(() => true));
      line.textContent = done ? `Uploaded ${f.name} (${size(f.size)})` : `${f.name}: upload failed`;
      if (done) ids.push(grant.document.id);
    }
    picker.value = "";
    if (ids.length && parseOnUpload.checked) await guard(() => post(`/datasets/${ds.id}/chunks`, { document_ids: ids }));
    page = 1;
    await load();
  }

  const drop = h("div", {
    class: "drop",
    ondragover: (e) => { e.preventDefault(); drop.classList.add("over"); },
    ondragleave: () => drop.classList.remove("over"),
    ondrop: (e) => { e.preventDefault(); drop.classList.remove("over"); send([...e.dataTransfer.files]); },
  },
  h("p", {}, "Drop files here, or ", h("button", { type: "button", onclick: () => picker.click() }, "choose files"), " ", picker),
  h("label", { class: "inline" }, parseOnUpload, "Parse after upload"));

  async function act(path, ids, verb) {
    if (!ids.length) return;
    if (verb === "delete") {
      if (!confirm(`Delete ${ids.length} document(s) and their chunks?`)) return;
      await guard(() => del(path, { ids }), "Deleted");
    } else {
      await guard(() => (verb === "parse" ? post : del)(path, { document_ids: ids }), verb === "parse" ? "Parsing started" : "Stopped");
    }
    selected.clear();
    await load();
  }

  // the run as a badge and a percentage; the parser's log (RAGFlow's progress_msg) in a popover, a failure's last
  // line shown in the row
  function statusCell(d) {
    const pct = Math.round((d.progress || 0) * 100);
    const parts = [h("span", { class: `badge run-${d.run}` }, d.run)];
    if (d.run === "RUNNING") parts.push(" ", h("progress", { max: 1, value: d.progress || 0, "aria-label": `${d.name} progress` }));
    if (d.run !== "UNSTART") parts.push(h("span", { class: "pct" }, `${pct}%`));
    const log = (d.progress_msg || "").trim();
    if (log) {
      const opener = h("button", {
        type: "button", class: "link", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-label": `Log of ${d.name}`,
        onclick: () => floating(opener, `Log of ${d.name}`,
          h("p", { class: "meta" }, [d.process_begin_at ? `started ${when(d.process_begin_at)}` : "",
            d.process_duration ? ` · ${Number(d.process_duration).toFixed(1)} s` : ""].join("")),
          h("pre", { class: "log-text" }, log)),
      }, "log");
      parts.push(" ", opener);
      if (d.run === "FAIL") parts.push(h("div", { class: "msg fail", title: log }, log.split("\n").pop()));
    }
    return h("td", { "data-run": d.run, class: "status" }, parts);
  }

  async function load() {
    clearTimeout(timer);
    if (floatingIsOpen()) { timer = setTimeout(load, 1000); return; }  // a log being read is not redrawn under the reader
    const res = await call("GET", `/datasets/${ds.id}/documents`, {
      query: { page, page_size: PAGE_SIZE, orderby: "create_time", desc: true, keywords: keywords.value.trim(), run: run.value },
    });
    if (!alive) return;
    const { docs, total } = res.data;
    const boxes = [];
    const all = h("input", {
      type: "checkbox", "aria-label": "Select all on this page", checked: docs.length > 0 && docs.every((d) => selected.has(d.id)),
      onchange: (e) => {
        for (const b of boxes) { b.checked = e.target.checked; if (b.checked) selected.add(b.value); else selected.delete(b.value); }
      },
    });
    const sync = () => { all.checked = boxes.every((b) => b.checked); all.indeterminate = !all.checked && boxes.some((b) => b.checked); };
    const pick = (d) => {
      const box = h("input", {
        type: "checkbox", "aria-label": `Select ${d.name}`, checked: selected.has(d.id), value: d.id,
        onchange: (e) => { if (e.target.checked) selected.add(d.id); else selected.delete(d.id); sync(); },
      });
      boxes.push(box);
      return box;
    };
    const rows = docs.map((d) => h("tr", { "data-doc": d.id },
      h("td", {}, pick(d)),
      h("td", {}, h("a", { href: `#/datasets/${ds.id}/documents/${d.id}` }, d.name)),
      h("td", { class: "hide-narrow" }, d.chunk_method), h("td", { class: "num" }, d.chunk_count),
      h("td", { class: "num hide-narrow" }, size(d.size)), h("td", { class: "hide-narrow" }, when(d.create_time)),
      statusCell(d),
      h("td", {}, d.run === "RUNNING"
        ? h("button", { type: "button", onclick: () => act(`/datasets/${ds.id}/chunks`, [d.id], "stop") }, "Stop")
        : h("button", { type: "button", onclick: () => act(`/datasets/${ds.id}/chunks`, [d.id], "parse") }, d.run === "UNSTART" ? "Parse" : "Re-parse"))));
    fill(table, 
      h("div", { class: "row" },
        h("button", { type: "button", onclick: () => act(`/datasets/${ds.id}/chunks`, [...selected], "parse") }, "Parse selected"),
        h("button", { type: "button", onclick: () => act(`/datasets/${ds.id}/chunks`, [...selected], "stop") }, "Stop selected"),
        h("button", { type: "button", class: "danger", onclick: () => act(`/datasets/${ds.id}/documents`, [...selected], "delete") }, "Delete selected")),
      rows.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Documents" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, all), h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col", class: "hide-narrow" }, "Chunk method"), h("th", { scope: "col" }, "Chunks"),
          h("th", { scope: "col", class: "hide-narrow" }, "Size"), h("th", { scope: "col", class: "hide-narrow" }, "Uploaded"),
          h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Action")))),
        h("tbody", {}, rows))) : h("p", { class: "muted" }, "No documents match."),
      pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
    // poll only this page, and only while something on it is moving
    if (docs.some((d) => d.run === "RUNNING")) timer = setTimeout(() => load().catch((e) => toast(e.message, "error")), 1000);
  }

  let debounce = null;
  keywords.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { page = 1; load(); }, 300); });
  run.addEventListener("change", () => { page = 1; load(); });
  body.append(drop, uploads,
    h("div", { class: "row", role: "search" }, h("div", { class: "grow" }, field("Filter by name", keywords)), field("Status", run)),
    table);
  await load();
  return () => { alive = false; clearTimeout(timer); };
}
