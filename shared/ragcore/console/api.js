// Every request the console makes goes through here, to the public /api/v1 API and nothing else.
const KEY = "ragflow-console-auth";
let base = "";        // same origin unless config.json (written by the CDK stack) says otherwise
let streamBase = "";  // on AWS, streamed completions go to their own function URL

export async function loadConfig() {
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (res.ok) {
      const cfg = await res.json();
      base = (cfg.api_base || "").replace(/\/$/, "");
      streamBase = (cfg.stream_base || cfg.api_base || "").replace(/\/$/, "");
    }
  } catch { /* no config: the API is on this origin */ }
}

export const auth = {
  get() { try { return JSON.parse(localStorage.getItem(KEY) || "null"); } catch { return null; } },
  set(value) { localStorage.setItem(KEY, JSON.stringify(value)); },
  clear() { localStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

function headers(extra) {
  const a = auth.get();
  const h = { ...(extra || {}) };
  if (a && a.token) h.Authorization = `Bearer ${a.token}`;
  return h;
}

function url(path, query, root = base) {
  const u = new URL(`${root}/api/v1${path}`, location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
  }
  return u.toString();
}

async function envelope(res) {
  if (res.status === 401) {
    auth.clear();
    window.dispatchEvent(new Event("console:logout"));
    throw new ApiError("Your session has ended: log in again.", 401);
  }
  let body;
  try { body = await res.json(); } catch { throw new ApiError(`HTTP ${res.status}`, res.status); }
  if (body.code !== 0) throw new ApiError(body.message || `error ${body.code}`, body.code);
  return body;
}

/** A call that returns the whole envelope ({code, data, total…}); throws ApiError on a non-zero code. */
export async function call(method, path, { json, form, query, raw } = {}) {
  const init = { method, headers: headers() };
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers["Content-Type"] = "application/json"; }
  if (form) init.body = form;
  const res = await fetch(url(path, query), init);
  return raw ? res : envelope(res);
}

// the data of a success; a success without data (`{"code": 0}`) is `true`, so callers can tell it from a failure
const data = (b) => (b.data === undefined ? true : b.data);
export const get = (path, query) => call("GET", path, { query }).then(data);
export const post = (path, json) => call("POST", path, { json }).then(data);
export const put = (path, json) => call("PUT", path, { json }).then(data);
export const patch = (path, json) => call("PATCH", path, { json }).then(data);
export const del = (path, json) => call("DELETE", path, { json }).then(data);

/** Upload with progress (fetch has no upload progress): multipart to the documents route. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(path));
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      try {
        const body = JSON.parse(xhr.responseText);
        if (xhr.status === 401) { auth.clear(); window.dispatchEvent(new Event("console:logout")); }
        body.code === 0 ? resolve(body.data) : reject(new ApiError(body.message || `error ${body.code}`, body.code));
      } catch { reject(new ApiError(`HTTP ${xhr.status}`, xhr.status)); }
    };
    xhr.onerror = () => reject(new ApiError("network error", 0));
    xhr.send(form);
  });
}

/** PUT raw bytes to a URL the API handed out (a presigned S3 URL on AWS, /api/v1/uploads/<token> locally). */
export function putBytes(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", new URL(target, location.href).toString());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new ApiError(`upload failed (HTTP ${xhr.status})`, xhr.status)));
    xhr.onerror = () => reject(new ApiError("network error", 0));
    xhr.send(file);
  });
}

/** A binary resource behind the API (chunk images, a document's file) as a Blob; null when the API says no. */
export async function blob(path) {
  const res = await fetch(url(path), { headers: headers() });
  if (!res.ok || (res.headers.get("content-type") || "").includes("json")) return null;
  return res.blob();
}

/** The same, shown through an object URL. */
export async function blobUrl(path) {
  const found = await blob(path);
  return found && URL.createObjectURL(found);
}

/** The data lines of a server-sent event stream, one string per event, to `onData` (which returns true to stop).
 *  `token` replaces the login's (an embedded bot sends its beta token). A reply that is not a stream is an envelope:
 *  its error is thrown. */
async function events(path, json, onData, token) {
  const extra = { "Content-Type": "application/json", Accept: "text/event-stream" };
  const sent = token ? { ...extra, Authorization: `Bearer ${token}` } : headers(extra);
  const res = await fetch(url(path, null, streamBase), { method: "POST", headers: sent, body: JSON.stringify(json) });
  if (!(res.headers.get("content-type") || "").includes("event-stream")) { await envelope(res); return; }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("\n").trim();
      if (data && onData(data)) { reader.cancel().catch(() => {}); return; }
    }
  }
}

/** A streamed RAGFlow completion (chats, search apps, chat bots): onFrame(data) per frame until `data: true`. */
export function stream(path, json, onFrame, token) {
  return events(path, json, (text) => {
    const msg = JSON.parse(text);
    if (msg.code !== 0) throw new ApiError(msg.message || `error ${msg.code}`, msg.code);
    if (msg.data === true) return true;
    onFrame(msg.data);
    return false;
  }, token);
}

/** A streamed agent run: onEvent({event, data, session_id, …}) per event until `[DONE]`. */
export function agentStream(path, json, onEvent, token) {
  return events(path, json, (text) => {
    if (text === "[DONE]") return true;
    const msg = JSON.parse(text);
    if (msg.code !== undefined && msg.code !== 0) throw new ApiError(msg.message || `error ${msg.code}`, msg.code);
    onEvent(msg);
    return false;
  }, token);
}

/** A JSON call with another token than the login's (an embedded bot's beta token): the envelope's data. */
export async function withToken(token, method, path, { json, query } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } };
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(url(path, query), init);
  let body;
  try { body = await res.json(); } catch { throw new ApiError(`HTTP ${res.status}`, res.status); }
  if (body.code !== 0) throw new ApiError(body.message || `error ${body.code}`, body.code);
  return body.data;
}
