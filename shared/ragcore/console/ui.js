// DOM helpers: elements are built, never parsed from strings (only search highlights are, after escaping).

/** h("button", {class: "primary", onclick}, "Save") — attributes starting with "on" become listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "hidden" || k === "multiple" || k === "required" || k === "selected") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** Replaces an element's children, skipping null/false and flattening arrays as h() does (the DOM's own
 *  replaceChildren would show a null as the text "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let fieldSeq = 0;
/** A labelled control: the label wraps the text and the control, so screen readers and clicks both work. */
export function field(text, control, hint) {
  if (!control.id) control.id = `f${++fieldSeq}`;
  return h("label", { for: control.id }, text, control, hint ? h("span", { class: "muted" }, hint) : null);
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast ${kind}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

/** Runs an async action, reporting its error as a toast; returns its result or undefined. */
export async function guard(action, done) {
  try {
    const result = await action();
    if (done) toast(done);
    return result;
  } catch (err) {
    toast(err.message || String(err), "error");
    return undefined;
  }
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** The API's highlight marks terms with <em>; everything else in it is text. */
export function highlighted(text) {
  const el = h("div", { class: "content" });
  el.innerHTML = escapeHtml(text).replace(/&lt;em&gt;/g, "<mark>").replace(/&lt;\/em&gt;/g, "</mark>");
  return el;
}

export function when(value) {
  if (!value) return "";
  const ms = typeof value === "number" ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
  return Number.isNaN(ms) ? String(value) : new Date(ms).toLocaleString();
}

export function size(bytes) {
  if (!bytes && bytes !== 0) return "";
  const units = ["B", "KB", "MB", "GB"];
  let n = Number(bytes), i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** Prev/next paging over the API's own page/page_size and total. */
export function pager(page, pageSize, total, go) {
  const last = Math.max(1, Math.ceil(total / pageSize));
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, "‹ Previous"),
    h("span", {}, `Page ${page} of ${last} · ${total} in all`),
    h("button", { type: "button", disabled: page >= last, onclick: () => go(page + 1) }, "Next ›"),
    h("button", { type: "button", disabled: page >= last, onclick: () => go(last), class: "hide-narrow" }, "Last »"));
}

export function title(text) {
  document.title = `${text} · ragflow-serverless`;
  return h("h1", {}, text);
}

// RAGFlow's chunk methods, each with the one line a user needs to choose it
export const CHUNK_METHOD_HELP = {
  naive: "General: text cut at the delimiters into pieces of about the chunk size — right for most documents.",
  book: "Books: long documents whose chapters and sections stay together.",
  email: "E-mails (.eml): headers, body and attachments.",
  laws: "Laws and regulations: one chunk per article or clause.",
  manual: "Manuals (PDF): one chunk per section, found by its headings.",
  one: "One: each whole document is a single chunk.",
  paper: "Papers (PDF): the abstract and each section.",
  picture: "Pictures: the text in the image (OCR) and its description.",
  presentation: "Slides (PPTX, PDF): one chunk per slide.",
  qa: "Q&A: each question and its answer (a spreadsheet, CSV or text file of pairs) is a chunk.",
  table: "Tables: each row of a spreadsheet or CSV is a chunk, its columns as fields.",
  tag: "Tag sets: rows of description and tags, used to tag the chunks of other datasets.",
  resume: "Résumés: name, education, experience and skills picked out.",
};
export const CHUNK_METHODS = Object.keys(CHUNK_METHOD_HELP);

/** A chunk-method <select> and, under it, what the chosen method does. */
export function methodField(text, current = "naive") {
  const select = h("select", {}, CHUNK_METHODS.map((m) => h("option", { value: m, selected: m === current }, m)));
  const help = h("span", { class: "muted help" }, CHUNK_METHOD_HELP[current] || "");
  select.addEventListener("change", () => { help.textContent = CHUNK_METHOD_HELP[select.value] || ""; });
  return { select, field: field(text, select, help) };
}

const SVG = "http://www.w3.org/2000/svg";

/** Where a chunk sits on its pages: RAGFlow's positions [page, x0, x1, top, bottom] (points from the page's top-left)
 *  drawn as highlighted boxes on page outlines (US Letter unless a box reaches further). Empty without positions. */
export function pageMap(positions) {
  const boxes = (positions || []).filter((p) => Array.isArray(p) && p.length >= 5 && p[2] > p[1] && p[4] > p[3]);
  if (!boxes.length) return null;
  const pagesSeen = [...new Set(boxes.map((b) => b[0]))];
  return h("div", { class: "pagemap" }, pagesSeen.map((page) => {
    const mine = boxes.filter((b) => b[0] === page);
    const width = Math.max(612, ...mine.map((b) => b[2]));
    const height = Math.max(792, ...mine.map((b) => b[4]));
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `page ${page}: ${mine.length} highlighted region(s)`);
    const sheet = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({ x: 0, y: 0, width, height, class: "sheet" })) sheet.setAttribute(k, String(v));
    svg.append(sheet);
    for (const [, x0, x1, top, bottom] of mine) {
      const r = document.createElementNS(SVG, "rect");
      for (const [k, v] of Object.entries({ x: x0, y: top, width: x1 - x0, height: bottom - top, class: "hit" })) r.setAttribute(k, String(v));
      svg.append(r);
    }
    return h("figure", {}, svg, h("figcaption", {}, `p. ${page}`));
  }));
}

// ---- a popover at the control that opened it (a citation marker, a status badge) ----------------------------------
let floatingOpen = null;

export const floatingIsOpen = () => floatingOpen !== null;

/** Closes the open popover, if any (focus goes back to what opened it). */
export function closeFloating(restoreFocus = true) {
  if (!floatingOpen) return;
  const { box, anchor, stop } = floatingOpen;
  floatingOpen = null;
  stop();
  box.remove();
  anchor.setAttribute("aria-expanded", "false");
  if (restoreFocus && anchor.isConnected) anchor.focus({ preventScroll: true });
}

/** A dialog placed next to `anchor` (below it, or above when there is more room there), kept within the window and
 *  following the anchor when the page or its scrolling box moves; Escape, a click elsewhere or "Close" shuts it.
 *  One at a time: opening another closes the first. */
export function floating(anchor, label, ...content) {
  const again = floatingOpen && floatingOpen.anchor === anchor;
  closeFloating(false);
  if (again) return null;  // a second click on the same marker closes its popover
  const box = h("div", { class: "floating", role: "dialog", "aria-label": label, tabindex: "-1", "data-floating": "" },
    h("div", { class: "floating-head" }, h("strong", {}, label),
      h("button", { type: "button", class: "link", onclick: () => closeFloating() }, "Close")),
    content);
  document.body.append(box);
  const place = () => {
    if (!anchor.isConnected) { closeFloating(false); return; }
    const a = anchor.getBoundingClientRect();
    const width = Math.min(560, document.documentElement.clientWidth - 16);
    box.style.width = `${width}px`;
    const below = window.innerHeight - a.bottom, above = a.top;
    const height = box.offsetHeight;
    const top = below >= Math.min(height, 260) || below >= above ? a.bottom + 6 : Math.max(8, a.top - 6 - height);
    const left = Math.min(Math.max(8, a.left), document.documentElement.clientWidth - width - 8);
    box.style.top = `${top + window.scrollY}px`;
    box.style.left = `${left + window.scrollX}px`;
  };
  const onKey = (e) => { if (e.key === "Escape") closeFloating(); };
  const onDown = (e) => { if (!box.contains(e.target) && !anchor.contains(e.target)) closeFloating(false); };
  const resized = new ResizeObserver(place);
  resized.observe(box);
  document.addEventListener("keydown", onKey);
  document.addEventListener("mousedown", onDown);
  document.addEventListener("scroll", place, true);
  window.addEventListener("resize", place);
  const stop = () => {
    resized.disconnect();
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("mousedown", onDown);
    document.removeEventListener("scroll", place, true);
    window.removeEventListener("resize", place);
  };
  floatingOpen = { box, anchor, stop };
  anchor.setAttribute("aria-expanded", "true");
  place();
  box.focus({ preventScroll: true });
  return box;
}
