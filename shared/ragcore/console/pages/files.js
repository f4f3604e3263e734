// The file manager (/files): folders, upload, rename, move, delete, download, and linking files (or whole folders)
// to datasets — a linked file becomes a dataset document, parsed like an upload.
import { blob, call, del, get, post, upload } from "../api.js";
import { closeFloating, field, fill, floating, guard, h, pager, size, title, toast, when } from "../ui.js";
import { datasetBoxes } from "./chats.js";

const PAGE_SIZE = 30;

/** Folders under `parentId` (the first 100: a picker, not a listing). */
async function foldersIn(parentId) {
  const data = await get("/files", { parent_id: parentId, page: 1, page_size: 100, orderby: "name", desc: false });
  return { folder: data.parent_folder, folders: data.files.filter((f) => f.type === "folder") };
}

/** A popover to pick a destination folder: it opens at the top folder and walks down; `chosen(folder)` on "Move here". */
function folderPicker(anchor, label, exclude, chosen) {
  const body = h("div", { class: "picker" });
  const trail = [];
  async function show(parentId) {
    const { folder, folders } = await foldersIn(parentId);
    if (!trail.length || trail[trail.length - 1].id !== folder.id) trail.push(folder);
    fill(body, 
      h("p", { class: "meta" }, trail.map((f) => f.name).join(" / ").replace(/^\/ \//, "/")),
      h("ul", { class: "plain" }, folders.filter((f) => !exclude.has(f.id)).map((f) => h("li", {},
        h("button", { type: "button", class: "link", onclick: () => show(f.id) }, `${f.name}/`)))),
      h("p", { class: "row" },
        trail.length > 1 ? h("button", { type: "button", onclick: () => { trail.pop(); show(trail.pop().id); } }, "‹ Up") : null,
        h("button", { type: "button", class: "primary", onclick: () => chosen(folder) }, `Move here (${folder.name})`)));
  }
  floating(anchor, label, body);
  show("");
}

export async function filesPage(main, folderId = "") {
  let page = 1;
  const selected = new Map();  // id → file
  const list = h("div");
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Folders" });
  const keywords = h("input", { type: "search", placeholder: "part of a name" });
  const folderName = h("input", { type: "text", required: true });
  const picker = h("input", { type: "file", multiple: true, class: "visually-hidden", "aria-label": "Files to upload", tabindex: "-1",
    onchange: () => send([...picker.files]) });
  const status = h("p", { class: "muted", "aria-live": "polite" });
  let here = { id: folderId, name: "/" };

  async function send(files) {
    if (!files.length) return;
    const form = new FormData();
    if (here.id) form.append("parent_id", here.id);
    for (const f of files) form.append("file", f, f.name);
    status.textContent = `Uploading ${files.length} file(s)…`;
    const made = await guard(() => upload("/files", form, (p) => { status.textContent = `Uploading ${files.length} file(s): ${Math.round(p * 100)}%`; }));
    status.textContent = made ? `Uploaded ${made.map((f) => f.name).join(", ")}` : "Upload failed";
    picker.value = "";
    await load();
  }

  async function rename(f) {
    const name = prompt(`New name for "${f.name}"`, f.name);
    if (!name || name === f.name) return;
    if (await guard(() => post("/files/move", { src_file_ids: [f.id], new_name: name }), "Renamed") !== undefined) load();
  }

  async function download(f) {
    const file = await blob(`/files/${f.id}`);
    if (!file) { toast(`${f.name} could not be downloaded`, "error"); return; }
    const a = h("a", { href: URL.createObjectURL(file), download: f.name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function moveSelected(anchor) {
    const ids = [...selected.keys()];
    if (!ids.length) { toast("Tick the files or folders to move.", "error"); return; }
    folderPicker(anchor, "Move to a folder", new Set(ids), async (dest) => {
      closeFloating(false);
      if (await guard(() => post("/files/move", { src_file_ids: ids, dest_file_id: dest.id }), `Moved to ${dest.name}`) !== undefined) {
        selected.clear();
        load();
      }
    });
  }

  async function linkSelected(anchor) {
    const ids = [...selected.keys()];
    if (!ids.length) { toast("Tick the files or folders to link.", "error"); return; }
    const boxes = await datasetBoxes();
    floating(anchor, "Link to datasets",
      h("p", { class: "meta" }, "Each file becomes a document of the datasets ticked (a folder: every file in it); parse it there."),
      boxes.length ? h("div", { class: "row" }, boxes.map((b) => h("label", { class: "inline" }, b, b.dataset.name)))
        : h("p", { class: "muted" }, "No datasets yet."),
      h("p", {}, h("button", {
        type: "button", class: "primary",
        onclick: async () => {
          const kbIds = boxes.filter((b) => b.checked).map((b) => b.value);
          if (!kbIds.length) { toast("Tick a dataset.", "error"); return; }
          const links = await guard(() => post("/files/link-to-datasets", { file_ids: ids, kb_ids: kbIds }));
          if (links === undefined) return;
          closeFloating(false);
          toast(`Linked ${Array.isArray(links) ? links.length : ids.length} file(s)`);
          selected.clear();
          load();
        },
      }, "Link")));
  }

  async function removeSelected() {
    const ids = [...selected.keys()];
    if (!ids.length || !confirm(`Delete ${ids.length} item(s)? A folder goes with everything in it.`)) return;
    if (await guard(() => del("/files", { ids }), "Deleted") !== undefined) { selected.clear(); load(); }
  }

  function row(f) {
    const box = h("input", {
      type: "checkbox", "aria-label": `Select ${f.name}`, checked: selected.has(f.id),
      onchange: (e) => { if (e.target.checked) selected.set(f.id, f); else selected.delete(f.id); },
    });
    const folder = f.type === "folder";
    return h("tr", { "data-file": f.id },
      h("td", {}, box),
      h("td", {}, folder ? h("a", { href: `#/files/${f.id}` }, `${f.name}/`)
        : h("button", { type: "button", class: "link", onclick: () => download(f), "aria-label": `Download ${f.name}` }, f.name)),
      h("td", { class: "num hide-narrow" }, folder ? "" : size(f.size)),
      h("td", { class: "hide-narrow" }, when(f.update_time)),
      h("td", {}, (f.kbs_info || []).map((k) => h("a", { class: "tag", href: `#/datasets/${k.kb_id}` }, k.kb_name))),
      h("td", {}, h("button", { type: "button", onclick: () => rename(f), "aria-label": `Rename ${f.name}` }, "Rename")));
  }

  async function load() {
    const res = await call("GET", "/files", { query: { parent_id: folderId, page, page_size: PAGE_SIZE, keywords: keywords.value.trim(), orderby: "name", desc: false } });
    const { files, total, parent_folder: parent } = res.data;
    here = parent;
    const chain = folderId ? (await get(`/files/${folderId}/ancestors`)).parent_folders || [] : [];
    const path = [...chain].reverse().filter((f) => f.name !== "/" && f.id !== parent.id);
    fill(crumbs, h("a", { href: "#/files" }, "Files"), ...path.flatMap((f) => [" / ", h("a", { href: `#/files/${f.id}` }, f.name)]),
      parent.name !== "/" ? [" / ", h("span", { "aria-current": "page" }, parent.name)] : null);
    document.title = `${parent.name === "/" ? "Files" : parent.name} · ragflow-serverless`;
    fill(list, files.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Files" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, h("span", { class: "muted" }, "Select")), h("th", { scope: "col" }, "Name"),
        h("th", { scope: "col", class: "hide-narrow" }, "Size"), h("th", { scope: "col", class: "hide-narrow" }, "Updated"),
        h("th", { scope: "col" }, "Datasets"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Action")))),
      h("tbody", {}, files.map(row)))) : h("p", { class: "muted" }, "This folder is empty."),
    pager(page, PAGE_SIZE, total, (p) => { page = p; load(); }));
  }

  async function makeFolder(ev) {
    ev.preventDefault();
    const body = { name: folderName.value.trim(), type: "folder" };
    if (here.id) body.parent_id = here.id;
    if (await guard(() => post("/files", body), "Folder created")) { folderName.value = ""; load(); }
  }

  let debounce = null;
  keywords.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { page = 1; load(); }, 300); });
  const moveButton = h("button", { type: "button", onclick: () => moveSelected(moveButton) }, "Move selected…");
  const linkButton = h("button", { type: "button", onclick: () => linkSelected(linkButton) }, "Link selected to datasets…");
  fill(main, title("Files"), crumbs,
    h("div", { class: "row start" },
      h("form", { class: "panel row grow", onsubmit: makeFolder, "aria-label": "New folder" },
        h("div", { class: "grow" }, field("New folder name", folderName)), h("button", { type: "submit" }, "Create folder")),
      h("div", { class: "panel grow" }, h("p", {}, h("button", { type: "button", class: "primary", onclick: () => picker.click() }, "Upload files"), " ", picker),
        status)),
    h("div", { class: "row" }, h("div", { class: "grow" }, field("Filter by name", keywords)), moveButton, linkButton,
      h("button", { type: "button", class: "danger", onclick: removeSelected }, "Delete selected")),
    list);
  await load();
}
