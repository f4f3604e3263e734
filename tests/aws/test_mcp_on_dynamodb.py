"""The MCP endpoint on the AWS adapters (DynamoDB and S3 under moto, Pinecone's fake), served on loopback and driven
by the official MCP SDK's client: tools/list reads one page of datasets and one of chats whatever the tenant holds
(counted by the store adapter itself, as the flat-cost tests count), and retrieval answers as /api/v1/retrieval."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.aws.conftest import USAGE, UsageLines, emulated_aws
from tests.fakes.pinecone_server import FakePinecone
from tests.mcp.conftest import serve_app, with_session

DATASETS = CHATS = 45  # more than the one page (30) tools/list describes, and than a page and its overhead


@dataclass
class Aws:
    base: str
    headers: dict[str, str]
    usage: UsageLines
    dataset: str

    def reads(self, route: str) -> list[int]:
        return [int(m.group(1)) for line in self.usage.lines if route in line and (m := USAGE.search(line))]


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    mp = pytest.MonkeyPatch()
    fake = FakePinecone()
    env = {"PINECONE_HOST": fake.url, "PINECONE_API_KEY": "k", "DATA_DIR": str(tmp_path_factory.mktemp("mcp-aws"))}
    with emulated_aws(mp, "mcp", "mcp-bucket", env) as (_tenant, key):
        from functions.local import create_local_app

        base, stop = serve_app(create_local_app(background=False))
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            ids = [client.post("/api/v1/datasets", json={"name": f"kb{n:02d}"}).json()["data"]["id"] for n in range(DATASETS)]
            for n in range(CHATS):
                assert client.post("/api/v1/chats", json={"name": f"chat{n:02d}"}).json()["code"] == 0
            dataset = ids[-1]
            [doc] = client.post(f"/api/v1/datasets/{dataset}/documents",
                                files=[("file", ("leave.txt", b"Annual leave is twenty days."))]).json()["data"]
            added = client.post(f"/api/v1/datasets/{dataset}/documents/{doc['id']}/chunks",
                                json={"content": "Staff get twenty days of annual leave each year."}).json()
            assert added["code"] == 0, added
        lines = UsageLines()
        logger = logging.getLogger("ragcore.usage")
        logger.addHandler(lines)
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            yield Aws(base, headers, lines, dataset)
        finally:
            logger.removeHandler(lines)
            logger.setLevel(level)
            stop()
    fake.close()
    mp.undo()


def session(aws: Aws, use: Any) -> Any:
    return asyncio.run(with_session(f"{aws.base}/api/v1/mcp", aws.headers, use))


def test_tools_list_reads_one_page_of_datasets_and_chats(aws: Aws) -> None:
    with httpx.Client(base_url=aws.base, headers=aws.headers) as client:
        aws.usage.lines.clear()
        assert client.get("/api/v1/datasets", params={"page_size": 30}).json()["code"] == 0
        assert client.get("/api/v1/chats", params={"page_size": 30}).json()["code"] == 0
        # the server logs a request's usage after its reply is sent: wait for both lines
        deadline = time.monotonic() + 30  # ends as soon as the lines are there
        while not (aws.reads("GET /api/v1/datasets") and aws.reads("GET /api/v1/chats")) and time.monotonic() < deadline:
            time.sleep(0.02)
        pages = sum(aws.reads("GET /api/v1/datasets")) + sum(aws.reads("GET /api/v1/chats"))

    async def use(s: Any) -> Any:
        return await s.list_tools()

    aws.usage.lines.clear()
    tools = {t.name: t.description for t in session(aws, use).tools}
    assert f"(30 of {DATASETS} shown; call ragflow_list_datasets" in tools["ragflow_retrieval"]
    assert f"(30 of {CHATS} shown; call ragflow_list_chats" in tools["ragflow_list_chats"]
    deadline = time.monotonic() + 30  # ends as soon as the lines are there
    while len(aws.reads("POST /api/v1/mcp")) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    reads = aws.reads("POST /api/v1/mcp")
    assert len(reads) >= 2  # initialize (and its notification), then tools/list: each a request of its own
    assert max(reads) <= pages + 10 < DATASETS + CHATS, (reads, pages)  # as the two REST pages read, not all


def test_retrieval_over_mcp_equals_the_retrieval_api(aws: Aws) -> None:
    params = {"question": "How many days of annual leave?", "dataset_ids": [aws.dataset], "similarity_threshold": 0.0}

    async def use(s: Any) -> Any:
        return await s.call_tool("ragflow_retrieval", params)

    reply = json.loads(session(aws, use).content[0].text)
    api = httpx.post(f"{aws.base}/api/v1/retrieval", headers=aws.headers, json={**params, "page_size": 10}).json()
    assert api["code"] == 0 and api["data"]["chunks"], api
    assert [{k: v for k, v in c.items() if k not in ("dataset_name", "document_metadata")} for c in reply["chunks"]] == \
        api["data"]["chunks"]
    assert reply["chunks"][0]["dataset_name"] == f"kb{DATASETS - 1:02d}" and reply["chunks"][0]["document_metadata"]["name"] == "leave.txt"
