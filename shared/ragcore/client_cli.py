"""The CLI's client commands: `ingest` a folder, `ask` a question, `retrieve` chunks — over HTTP, against the local
server or any deployment (--base-url / RAGFLOW_BASE_URL, --api-key / RAGFLOW_API_KEY)."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"DONE", "FAIL", "CANCEL"}


class ClientError(Exception):
    pass


class Client:
    def __init__(self, base_url: str, api_key: str, timeout: float = 120) -> None:
        if not api_key:
            raise ClientError("an API key is needed: --api-key or RAGFLOW_API_KEY (make one: ragflow-serverless apikey create)")
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", headers={"Authorization": f"Bearer {api_key}"},
                                  timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach the server: {exc}") from exc
        try:
            body = reply.json()
        except ValueError as exc:
            raise ClientError(f"unexpected reply ({reply.status_code}) from {path}") from exc
        if body.get("code") != 0:
            raise ClientError(str(body.get("message")))
        return body.get("data")

    def dataset(self, name: str, *, create: bool) -> dict[str, Any]:
        try:
            found = self.call("GET", "/datasets", params={"name": name})
            if found:
                return dict(found[0])
        except ClientError as exc:
            if "lacks permission" not in str(exc):  # RAGFlow's answer for "no such name"; anything else is real
                raise
        if not create:
            raise ClientError(f"no dataset named {name!r}")
        return dict(self.call("POST", "/datasets", json={"name": name}))

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        with self._http.stream("POST", path, json=body) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data:"):
                    continue
                frame = json.loads(line[5:])
                if frame.get("code") != 0:
                    raise ClientError(str(frame.get("message")))
                if frame.get("data") is True:
                    return
                yield frame["data"]


def bar(label: str, done: int, total: int, extra: str = "") -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r{label:10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {extra}   ")
    sys.stderr.flush()


def collect(root: Path, include: list[str], exclude: list[str]) -> list[Path]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    out = []
    for path in files:
        rel = path.name if root.is_file() else path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        if include and not any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(path.name, g) for g in include):
            continue
        if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(path.name, g) for g in exclude):
            continue
        out.append(path)
    return out


def cmd_ingest(client: Client, args: argparse.Namespace) -> int:
    root = Path(args.path)
    if not root.exists():
        raise ClientError(f"{root} does not exist")
    files = collect(root, args.include or [], args.exclude or [])
    if not files:
        raise ClientError("no files to ingest (check --include/--exclude)")
    dataset = client.dataset(args.dataset, create=True)
    failures: list[tuple[str, str]] = []
    uploaded: dict[str, str] = {}
    for n, path in enumerate(files, 1):
        try:
            docs = client.call("POST", f"/datasets/{dataset['id']}/documents", files=[("file", (path.name, path.read_bytes()))])
            uploaded[docs[0]["id"]] = str(path)
        except ClientError as exc:
            failures.append((str(path), str(exc)))
        bar("uploaded", n, len(files))
    sys.stderr.write("\n")
    if uploaded:
        client.call("POST", f"/datasets/{dataset['id']}/chunks", json={"document_ids": list(uploaded)})
    deadline = time.time() + args.timeout
    states: dict[str, dict[str, Any]] = {}
    while uploaded and time.time() < deadline:
        # the uploaded documents by id, 100 a request (the API's page and id-list bound)
        pending = list(uploaded)
        docs = [d for i in range(0, len(pending), 100) for d in client.call(
            "GET", f"/datasets/{dataset['id']}/documents", params={"ids": pending[i : i + 100], "page_size": 100})["docs"]]
        states = {d["id"]: d for d in docs if d["id"] in uploaded}
        finished = [d for d in states.values() if d["run"] in TERMINAL]
        bar("parsed", len(finished), len(uploaded), f"chunks {sum(d['chunk_count'] for d in states.values())}")
        if len(finished) == len(uploaded):
            break
        time.sleep(0.5)
    sys.stderr.write("\n")
    for doc_id, name in uploaded.items():
        doc = states.get(doc_id)
        if doc is None or doc["run"] not in TERMINAL:
            failures.append((name, "still parsing when --timeout ran out"))
        elif doc["run"] != "DONE":
            lines = [line for line in str(doc.get("progress_msg", "")).splitlines() if line.strip()]
            failures.append((name, lines[-1] if lines else str(doc["run"])))
    done = [d for d in states.values() if d["run"] == "DONE"]
    print(f"dataset {dataset['name']} ({dataset['id']}): {len(done)} of {len(files)} files ingested, "
          f"{sum(d['chunk_count'] for d in done)} chunks")
    if failures:
        width = max(len(p) for p, _ in failures)
        print(f"\n{'FAILED FILE':{width}}  REASON")
        for name, reason in failures:
            print(f"{name:{width}}  {reason}")
        return 1
    return 0


def cmd_ask(client: Client, args: argparse.Namespace) -> int:
    if args.chat:
        chats = client.call("GET", "/chats", params={"name": args.chat})["chats"]
        if not chats:
            raise ClientError(f"no chat assistant named {args.chat!r}")
        chat = chats[0]
    else:
        dataset = client.dataset(args.dataset, create=False)
        name = f"cli: {dataset['name']}"
        found = client.call("GET", "/chats", params={"keywords": name})["chats"]
        chat = next((c for c in found if c["name"] == name), None) or client.call(
            "POST", "/chats", json={"name": name, "dataset_ids": [dataset["id"]]})
    reference: dict[str, Any] = {}
    for frame in client.stream(f"/chats/{chat['id']}/completions", {"question": args.question, "stream": True}):
        sys.stdout.write(frame.get("answer", ""))
        sys.stdout.flush()
        if frame.get("reference"):
            reference = frame["reference"]
    print()
    for n, chunk in enumerate(reference.get("chunks", [])):
        print(f"[ID:{n}] {chunk.get('document_name')}: {chunk.get('content', '')[:100]!r}")
    return 0


def cmd_retrieve(client: Client, args: argparse.Namespace) -> int:
    dataset = client.dataset(args.dataset, create=False)
    found = client.call("POST", "/retrieval", json={"question": args.question, "dataset_ids": [dataset["id"]], "page_size": args.top})
    for chunk in found["chunks"]:
        print(f"{chunk['similarity']:.3f}  {chunk['document_keyword']}: {chunk['content'][:160]!r}")
    if not found["chunks"]:
        print("no chunk above the similarity threshold")
    return 0


def add_commands(sub: Any) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", help="server URL (default: RAGFLOW_BASE_URL or http://127.0.0.1:9380)")
        p.add_argument("--api-key", help="API key (default: RAGFLOW_API_KEY)")

    ingest = sub.add_parser("ingest", help="upload a folder into a dataset, parse it, report failures")
    ingest.add_argument("path")
    ingest.add_argument("--dataset", required=True)
    ingest.add_argument("--include", action="append", help="glob of files to take (repeatable)")
    ingest.add_argument("--exclude", action="append", help="glob of files to skip (repeatable)")
    ingest.add_argument("--timeout", type=float, default=3600, help="seconds to wait for parsing")
    common(ingest)
    ask = sub.add_parser("ask", help="stream an answer with citations")
    ask.add_argument("question")
    target = ask.add_mutually_exclusive_group(required=True)
    target.add_argument("--chat")
    target.add_argument("--dataset")
    common(ask)
    retrieve = sub.add_parser("retrieve", help="print the top chunks for a question")
    retrieve.add_argument("question")
    retrieve.add_argument("--dataset", required=True)
    retrieve.add_argument("--top", type=int, default=5)
    common(retrieve)


def run(args: argparse.Namespace, base_url: str, api_key: str) -> int:
    try:
        client = Client(args.base_url or base_url, args.api_key or api_key)
        return {"ingest": cmd_ingest, "ask": cmd_ask, "retrieve": cmd_retrieve}[args.command](client, args)
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
