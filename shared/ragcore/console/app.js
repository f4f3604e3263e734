// The console's entry: hash routes → page modules. Each page renders into <main> and may return a cleanup
// function (pages that poll stop when the user leaves them).
import { auth, get, loadConfig, post, call } from "./api.js";
import { encryptPassword } from "./rsa.js";
import { closeFloating, field, guard, h, title, toast } from "./ui.js";
import { datasetsPage, datasetPage } from "./pages/datasets.js";
import { chunksPage } from "./pages/chunks.js";
import { chatsPage, chatPage } from "./pages/chats.js";
import { keysPage } from "./pages/keys.js";
import { modelsPage } from "./pages/models.js";
import { agentPage, agentsPage } from "./pages/agents.js";
import { filesPage } from "./pages/files.js";
import { memoriesPage, memoryPage } from "./pages/memories.js";
import { searchPage, searchesPage } from "./pages/searches.js";
import { embedPage, sharePage } from "./pages/embed.js";
import { teamPage } from "./pages/team.js";
import { langfusePage } from "./pages/langfuse.js";

const routes = [
  [/^#\/datasets$/, datasetsPage, "datasets"],
  [/^#\/datasets\/([0-9a-f]+)(?:\/(documents|retrieval|settings))?$/, datasetPage, "datasets"],
  [/^#\/datasets\/([0-9a-f]+)\/documents\/([0-9a-f]+)$/, chunksPage, "datasets"],
  [/^#\/chats$/, chatsPage, "chats"],
  [/^#\/chats\/([0-9a-f]+)(?:\/([0-9a-f]+|new))?$/, chatPage, "chats"],
  [/^#\/keys$/, keysPage, "keys"],
  [/^#\/models$/, modelsPage, "models"],
  [/^#\/agents$/, agentsPage, "agents"],
  [/^#\/agents\/([0-9a-f]+)(?:\/(run|versions|dsl))?(?:\/([0-9a-f]+|new))?$/, agentPage, "agents"],
  [/^#\/files(?:\/([0-9a-f]+))?$/, filesPage, "files"],
  [/^#\/memories$/, memoriesPage, "memories"],
  [/^#\/memories\/([0-9a-f]+)$/, memoryPage, "memories"],
  [/^#\/searches$/, searchesPage, "searches"],
  [/^#\/searches\/([0-9a-f]+)$/, searchPage, "searches"],
  [/^#\/embed$/, embedPage, "embed"],
  [/^#\/team$/, teamPage, "team"],
  [/^#\/langfuse$/, langfusePage, "langfuse"],
];
// a bot's share page: no login (its beta token is in the address), no console chrome
const SHARE = /^#\/share\/(chat|agent)\/([0-9a-f]+)(?:\?(.*))?$/;

const main = document.getElementById("main");
let cleanup = null;

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  closeFloating(false);
  const shared = (location.hash || "").match(SHARE);
  if (shared) return showShare(shared);
  document.body.classList.remove("shared");
  if (!auth.get()) return loginPage();
  const hash = location.hash || "#/datasets";
  for (const [pattern, page, section] of routes) {
    const m = hash.match(pattern);
    if (!m) continue;
    for (const a of document.querySelectorAll("nav a")) {
      if (a.dataset.section === section) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      cleanup = (await page(main, ...m.slice(1))) || null;
    } catch (err) {
      main.replaceChildren(title("Something went wrong"), h("p", { class: "msg fail", role: "alert" }, err.message || String(err)),
        h("p", {}, h("a", { href: "#/datasets" }, "Back to datasets")));
    }
    // a new page opens at its top (the browser keeps the last page's scroll across hash changes)
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
    return;
  }
  location.hash = "#/datasets";
}

async function showShare([, kind, id, query]) {
  document.body.classList.add("shared");
  try {
    await sharePage(main, kind, id, query);
  } catch (err) {
    main.replaceChildren(title("This bot is not available"), h("p", { class: "msg fail", role: "alert" }, err.message || String(err)));
  }
}

function showChrome() {
  const a = auth.get();
  document.getElementById("nav").hidden = !a;
  const who = document.getElementById("who");
  who.replaceChildren();
  if (!a) return;
  who.append(h("span", {}, a.label || "API key"),
    h("button", { type: "button", onclick: logout }, "Log out"));
}

async function logout() {
  const a = auth.get();
  if (a && a.kind === "user") await guard(() => post("/auth/logout"));
  auth.clear();
  // the next person to log in starts at their datasets, not at this user's last address
  history.replaceState(null, "", "#/datasets");
  showChrome();
  route();
}

// who used this browser last: a login by someone else (or a new account) starts at the datasets, never at an address
// (a chat, a document) that belonged to the previous user; the same user coming back keeps it
const LAST = "ragflow-console.last-identity";

function loginPage() {
  showChrome();
  const keyInput = h("input", { type: "password", autocomplete: "off", required: true, placeholder: "ragflow-…" });
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const nickname = h("input", { type: "text", autocomplete: "nickname" });
  const status = h("p", { role: "alert", class: "msg fail" });
  let identity = "";
  let fresh = false;  // a new account

  async function useKey(ev) {
    ev.preventDefault();
    status.textContent = "";
    const token = keyInput.value.trim();
    auth.set({ kind: "key", token, label: `API key ${token.slice(0, 12)}…` });
    identity = `key:${token.slice(0, 20)}`;
    // proves the key works before showing anything (raw: a 401 here is a wrong key, not an ended session)
    const res = await call("GET", "/datasets", { query: { page: 1, page_size: 1 }, raw: true }).catch(() => null);
    if (res && res.status === 200 && (await res.json()).code === 0) { enter(); return; }
    auth.clear();
    status.textContent = res && res.status === 401 ? "That API key is not valid." : "The server did not answer: try again.";
  }

  async function signIn(path, body) {
    status.textContent = "";
    const res = await call("POST", path, { json: body, raw: true });
    const payload = await res.json();
    const token = res.headers.get("Authorization");
    if (payload.code !== 0 || !token) { status.textContent = payload.message || "Login failed."; return; }
    auth.set({ kind: "user", token, label: payload.data.nickname || payload.data.email });
    identity = `user:${payload.data.email || body.email}`;
    fresh = path === "/users";
    enter();
  }

  function enter() {
    showChrome();
    const last = localStorage.getItem(LAST);
    localStorage.setItem(LAST, identity);
    const someoneElse = fresh || (last !== null && last !== identity);
    const target = !location.hash || location.hash === "#/" || someoneElse ? "#/datasets" : location.hash;
    if (location.hash === target) route(); else location.hash = target;
    toast("Logged in");
  }

  main.replaceChildren(h("section", { class: "login" },
    title("Log in"),
    h("p", { class: "muted" }, "Use an API key (printed by ", h("code", {}, "make serve"), " on its first run; another: ",
      h("code", {}, ".venv/bin/ragflow-serverless apikey create"), "), or an account."),
    h("form", { class: "panel", onsubmit: useKey, "aria-label": "Log in with an API key" },
      h("h2", {}, "With an API key"), field("API key", keyInput),
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Log in with key"))),
    h("form", {
      class: "panel", "aria-label": "Log in with email and password",
      onsubmit: (ev) => { ev.preventDefault(); guard(() => signIn("/auth/login", { email: email.value.trim(), password: encryptPassword(password.value) })); },
    },
      h("h2", {}, "With an account"), field("Email", email), field("Password", password),
      h("p", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Log in"),
        h("details", {}, h("summary", {}, "Create an account"),
          field("Nickname", nickname),
          h("button", {
            type: "button",
            onclick: () => guard(() => signIn("/users", { nickname: nickname.value.trim() || email.value.split("@")[0], email: email.value.trim(), password: encryptPassword(password.value) })),
          }, "Register with this email and password")))),
    status));
  keyInput.focus();
}

window.addEventListener("hashchange", route);
window.addEventListener("console:logout", () => { showChrome(); route(); });
await loadConfig();
showChrome();
route();
