// A document's chunks: read (paged by the API), search, edit, switch on/off, add; page images and positions when
// the chunks carry them.
import { blobUrl, call, del, patch, post } from "../api.js";
import { drawPages, drawable, pageSource } from "../pageview.js";
import { field, fill, guard, h, pageMap, pager, title } from "../ui.js";

const PAGE_SIZE = 20;
const RUN_NAMES = { 0: "UNSTART", 1: "RUNNING", 2: "CANCEL", 3: "DONE", 4: "FAIL" };  // this route's doc gives the codes

function pages(positions) {
  const found = [...new Set((positions || []).map((p) => (Array.isArray(p) ? p[0] : p && p.page)).filter((n) => n !== undefined))];
  return found.length ? `page ${found.join(", ")}` : "";
}

export async function chunksPage(main, datasetId, documentId) {
  let page = 1;
  const [dataset] = (await call("GET", "/datasets", { query: { id: datasetId } })).data;
  const crumb = h("span", { "aria-current": "page" });
  let source = null;  // the document's file, for drawing its pages: downloaded on the first "Show on the page"
  const base = `/datasets/${datasetId}/documents/${documentId}/chunks`;
  const keywords = h("input", { type: "search", placeholder: "words in a chunk" });
  const list = h("div", { class: "cards" });
  const heading = title("Chunks");
  const info = h("p", { class: "muted" });
  const newContent = h("textarea", { rows: 3, required: true });
  const newKeywords = h("input", { type: "text", placeholder: "comma separated" });

  function editor(chunk, card) {
    const content = h("textarea", { rows: 6 }, chunk.content);
    const kw = h("input", { type: "text", value: (chunk.important_keywords || []).join(", ") });
    const form = h("form", {
      "aria-label": "Edit chunk",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const ok = await guard(() => patch(`${base}/${chunk.id}`, {
          content: content.value, important_keywords: kw.value.split(",").map((s) => s.trim()).filter(Boolean),
        }).then(() => true), "Chunk saved");
        if (ok) load();
      },
    }, field("Content", content), field("Keywords", kw),
    h("p", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Save chunk"),
      h("button", { type: "button", onclick: () => load() }, "Cancel")));
    fill(card, form);
    content.focus();
  }

  function card(chunk, index) {
    const el = h("article", { class: `card${chunk.available === false ? " off" : ""}`, "data-chunk": chunk.id });
    const toggle = h("input", {
      type: "checkbox", checked: chunk.available !== false,
      onchange: async (e) => {
        const ok = await guard(() => patch(`${base}/${chunk.id}`, { available: e.target.checked }).then(() => true));
        if (ok) el.classList.toggle("off", !e.target.checked); else e.target.checked = !e.target.checked;
      },
    });
    el.append(
      h("header", {}, h("span", {}, `#${(page - 1) * PAGE_SIZE + index + 1}`), h("span", {}, pages(chunk.positions)),
        (chunk.important_keywords || []).length ? h("span", {}, `keywords: ${chunk.important_keywords.join(", ")}`) : null,
        h("span", { class: "spacer" }), h("label", { class: "inline" }, toggle, "Enabled"),
        h("button", { type: "button", onclick: () => editor(chunk, el), "aria-label": `Edit chunk ${index + 1}` }, "Edit"),
        h("button", {
          type: "button", class: "danger", "aria-label": `Delete chunk ${index + 1}`,
          onclick: async () => {
            if (!confirm("Delete this chunk?")) return;
            if (await guard(() => del(base, { chunk_ids: [chunk.id] }), "Chunk deleted") !== undefined) load();
          },
        }, "Delete")),
      h("div", { class: "content" }, chunk.content), pageMap(chunk.positions));
    if (source && pageMap(chunk.positions)) {
      const view = h("div", { class: "pageviews", "aria-live": "polite" });
      const show = h("button", {
        type: "button", "aria-expanded": "false", "aria-label": `Show chunk ${index + 1} on its page`,
        onclick: async () => {
          const open = show.getAttribute("aria-expanded") === "true";
          show.setAttribute("aria-expanded", String(!open));
          show.textContent = open ? "Show on the page" : "Hide the page";
          if (open) { fill(view); return; }
          fill(view, h("p", { class: "muted" }, "Drawing the page…"));
          const figures = await guard(() => drawPages(source, chunk.positions));
          fill(view, ...(figures || []));
        },
      }, "Show on the page");
      el.append(h("p", {}, show), view);
    }
    if (chunk.image_id) {
      blobUrl(`/documents/images/${chunk.image_id}`).then((src) => src && el.append(
        h("img", { class: "chunk-image", src, alt: `Page image of chunk ${index + 1} ${pages(chunk.positions)}` })));
    }
    return el;
  }

  async function load() {
    const res = await call("GET", base, { query: { page, page_size: PAGE_SIZE, keywords: keywords.value.trim() } });
    const { chunks, doc, total } = res.data;
    heading.textContent = doc ? doc.name : "Chunks";
    crumb.textContent = heading.textContent;
    if (!source && doc && drawable(doc.name)) source = pageSource(`/datasets/${datasetId}/documents/${documentId}`, doc.name);
    document.title = `${heading.textContent} · ragflow-serverless`;
    info.textContent = doc ? `${total} chunk(s) · ${RUN_NAMES[doc.run] || doc.run} · ${doc.chunk_method}` : "";
    fill(list, ...(chunks.length ? chunks.map(card) : [h("p", { class: "muted" }, "No chunks.")]),
      pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  let debounce = null;
  keywords.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { page = 1; load(); }, 300); });
  fill(main, 
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/datasets" }, "Datasets"), " / ",
      h("a", { href: `#/datasets/${datasetId}` }, dataset ? dataset.name : "Documents"), " / ", crumb),
    heading, info,
    h("div", { class: "row", role: "search" }, h("div", { class: "grow" }, field("Search chunks", keywords))),
    list,
    h("form", {
      class: "panel", "aria-label": "Add a chunk",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const made = await guard(() => post(base, { content: newContent.value,
          important_keywords: newKeywords.value.split(",").map((s) => s.trim()).filter(Boolean) }), "Chunk added");
        if (made) { newContent.value = ""; newKeywords.value = ""; load(); }
      },
    }, h("h2", {}, "Add a chunk"), field("Content", newContent), field("Keywords", newKeywords),
    h("p", {}, h("button", { type: "submit" }, "Add chunk"))));
  await load();
}
