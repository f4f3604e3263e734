"""Many small documents: N NFCorpus abstracts (about one chunk each) uploaded through the API to a server in its own
process (`ragflow-serverless serve`, a temporary DATA_DIR), parsed, and waited for until every one is DONE.
Prints documents/s from the first upload to the last DONE, beside the bare embedder's chunks/s on the same texts
(the bound: ingesting costs about what embedding costs) and their ratio.

    .venv/bin/python bench/small_docs.py [--docs 1000] [--batch 100] [--base-url URL --api-key KEY]

Reads ../shared/data/nfcorpus/corpus.jsonl in place (never copied into the repo). With --aws the server runs on the
AWS adapters under moto (../shared/conformance/aws_emulated.py) and the DynamoDB items written per document are
printed from the server's usage meter.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "nfcorpus" / "corpus.jsonl"
PY = sys.executable


def abstracts(n: int) -> list[tuple[str, str]]:
    out = []
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            text = f"{row['title']}\n\n{row['text']}".strip()
            if 200 <= len(text) <= 1500:  # one chunk at the default 512 tokens
                out.append((f"{row['_id']}.txt", text))
            if len(out) == n:
                break
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_local() -> tuple[subprocess.Popen[bytes], str, str, str]:
    data = tempfile.mkdtemp(prefix="small-docs-")
    port = free_port()
    env = {**os.environ, "DATA_DIR": data, "PORT": str(port)}
    cli = str(Path(PY).with_name("ragflow-serverless"))
    key = subprocess.run([cli, "apikey", "create"], env=env, capture_output=True, text=True, check=True).stdout.split()[-1]
    server = subprocess.Popen([cli, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_up(base)
    return server, base, key, data


def wait_up(base: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/v1/system/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no server at {base}")


def bare_embedder(texts: list[str]) -> float:
    """Chunks/s of the bundled embedder alone, in batches of 32, one process (what ingesting competes with)."""
    sys.path[:0] = [str(ROOT / "shared")]
    from ragcore.adapters.local_embedder import LocalEmbedder

    embedder = LocalEmbedder()
    embedder.embed(["warm up"])
    t0 = time.perf_counter()
    for start in range(0, len(texts), 32):
        embedder.embed(texts[start:start + 32])
    return len(texts) / (time.perf_counter() - t0)


def ingest(base: str, key: str, docs: list[tuple[str, str]], batch: int) -> dict[str, Any]:
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300)
    ds = client.post("/api/v1/datasets", json={"name": f"small-{time.time_ns()}"}).json()["data"]["id"]
    t0 = time.perf_counter()
    ids: list[str] = []
    for start in range(0, len(docs), batch):
        files = [("file", (name, text.encode(), "text/plain")) for name, text in docs[start:start + batch]]
        uploaded = client.post(f"/api/v1/datasets/{ds}/documents", files=files).json()
        batch_ids = [d["id"] for d in uploaded["data"]]
        ids.extend(batch_ids)
        reply = client.post(f"/api/v1/datasets/{ds}/chunks", json={"document_ids": batch_ids}).json()
        assert reply["code"] == 0, reply
    upload_s = time.perf_counter() - t0
    while True:
        page = client.get(f"/api/v1/datasets/{ds}/documents", params={"page_size": 1, "run": "DONE"}).json()
        done = page["data"]["total"]
        failed = client.get(f"/api/v1/datasets/{ds}/documents", params={"page_size": 1, "run": "FAIL"}).json()["data"]["total"]
        if done + failed >= len(ids):
            break
        time.sleep(0.25)
    total_s = time.perf_counter() - t0
    chunks = client.get(f"/api/v1/datasets/{ds}").json()["data"]["chunk_count"]
    return {"docs": len(ids), "done": done, "failed": failed, "chunks": chunks, "upload_s": upload_s, "total_s": total_s}


def aws_items(docs: list[tuple[str, str]], sqs_batch: int) -> None:
    """DynamoDB items written per document on the AWS adapters (moto, in this process): the upload, the parse
    request, and the ingest Lambda's work on SQS batches of `sqs_batch` messages."""
    sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]
    import boto3
    from moto import mock_aws

    with mock_aws():
        os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                           "RAGFLOW_RUNTIME": "aws", "TABLE_NAME": "bench", "BUCKET_NAME": "bench",
                           "DATA_DIR": tempfile.mkdtemp(prefix="small-docs-aws-")})
        from ragcore.adapters.table_schema import create_table_kwargs

        boto3.client("dynamodb").create_table(**create_table_kwargs("bench"))
        boto3.client("s3").create_bucket(Bucket="bench")
        sqs = boto3.client("sqs")
        os.environ["TASK_QUEUE_URL"] = sqs.create_queue(QueueName="tasks")["QueueUrl"]
        from ragcore import bootstrap, usage
        from ragcore.domain.datasets import CreateDataset

        from functions.ingest.handler import handle_batch

        bootstrap.reset()
        tenant = bootstrap.tenants().create_tenant("bench")
        dataset = bootstrap.datasets().create(tenant, CreateDataset(name="small"))["id"]
        meter = usage.start()
        ids: list[str] = []
        for start in range(0, len(docs), 50):
            files = [(name, text.encode()) for name, text in docs[start:start + 50]]
            ids.extend(d["id"] for d in bootstrap.documents().upload(tenant, dataset, files))
        uploaded = meter.items_written
        for start in range(0, len(ids), 50):
            bootstrap.document_parsing().start_parse(tenant, dataset, {"document_ids": ids[start:start + 50]})
        requested = meter.items_written - uploaded
        url = os.environ["TASK_QUEUE_URL"]
        while True:
            got: list[dict[str, Any]] = []
            while len(got) < sqs_batch:  # what the event source gathers in its batching window
                more = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(sqs_batch - len(got), 10))
                if not more.get("Messages"):
                    break
                got.extend(more["Messages"])
            if not got:
                break
            records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in got]
            failed = handle_batch(records)
            for m in got:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        ingested = meter.items_written - uploaded - requested
        done = bootstrap.datasets().find(tenant, dataset)
        n = len(ids)
        print(f"DynamoDB items written per document ({n} documents, {done['chunk_count'] if done else 0} chunks, "
              f"SQS batches of {sqs_batch}): upload {uploaded / n:.1f}, parse request {requested / n:.1f}, "
              f"ingest {ingested / n:.1f}; total {meter.items_written / n:.1f} (goal ≤ 10 + 1 per chunk)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--base-url")
    parser.add_argument("--api-key")
    parser.add_argument("--aws", action="store_true", help="count DynamoDB items written per document instead")
    parser.add_argument("--sqs-batch", type=int, default=50)  # INGEST_BATCH_SIZE, the event source's batch (CDK)
    args = parser.parse_args()
    from machine import describe  # bench/ is on the path when a bench runs as a script

    print(describe())
    docs = abstracts(args.docs)
    if args.aws:
        aws_items(docs, args.sqs_batch)
        return
    server = None
    if args.base_url:
        base, key = args.base_url, args.api_key
    else:
        server, base, key, _ = start_local()
    try:
        result = ingest(base, key, docs, args.batch)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    rate = result["docs"] / result["total_s"]
    print(f"small documents  : {result['docs']} uploaded + parsed in {result['total_s']:.1f}s (uploads {result['upload_s']:.1f}s)"
          f" → {rate:.1f} documents/s; {result['done']} DONE, {result['failed']} FAIL, {result['chunks']} chunks")
    bare = bare_embedder([text for _, text in docs])
    chunks_rate = result["chunks"] / result["total_s"]
    print(f"bare embedder    : {bare:.1f} chunks/s on these texts; ingest {chunks_rate:.1f} chunks/s = "
          f"{chunks_rate / bare:.2f} of the embedder (goal ≥ 0.7)")


if __name__ == "__main__":
    main()
