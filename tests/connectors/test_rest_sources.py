"""GitHub, Confluence and Notion through small fakes of the REST endpoints they call (shapes recorded from the
public API docs): the add → edit → delete → prune cycle keeps document ids; credentials are checked."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.docs_helpers import make_dataset, retrieve
from tests.conftest import Api
from tests.connectors.fake_http import FakeServer, Reply, Request, json_reply, serve
from tests.connectors.helpers import create_connector, link, schedule, wait_parsed, wait_run


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with serve() as server:
        yield server


def authorised(req: Request, expected: str) -> bool:
    return req.headers.get("authorization") == expected


# ---- GitHub ---------------------------------------------------------------------------------------------------------
class FakeGitHub:
    def __init__(self, server: FakeServer) -> None:
        self.files: dict[str, bytes] = {"docs/intro.md": b"# Intro\n\nThe handbook explains onboarding rituals.\n",
                                        "docs/guide.txt": b"Deploys happen on Tuesdays only.\n",
                                        "assets/logo.bin": b"\x00\x01"}
        self.issues: list[dict[str, Any]] = [
            {"number": 1, "title": "Flaky build", "body": "The build fails on full moons.", "state": "open",
             "user": {"login": "ada"}, "labels": [{"name": "bug"}], "comments": 0, "updated_at": "2026-01-01T00:00:00Z",
             "html_url": "https://github.com/acme/handbook/issues/1"},
            {"number": 2, "title": "Add guide", "body": "Adds the guide.", "state": "closed", "user": {"login": "bob"},
             "labels": [], "comments": 0, "updated_at": "2026-01-01T00:00:00Z", "pull_request": {"url": "x"},
             "html_url": "https://github.com/acme/handbook/pull/2"}]
        self.comments: list[dict[str, Any]] = []
        auth = "Bearer ghp_test"

        def guarded(handler: Any) -> Any:
            return lambda req: handler(req) if authorised(req, auth) else json_reply({"message": "Bad credentials"}, 401)

        def sha(data: bytes) -> str:
            return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

        def tree(req: Request) -> Reply:
            return json_reply({"sha": "t1", "truncated": False, "tree": [{"path": "docs", "type": "tree", "sha": "d1"}] + [
                {"path": p, "mode": "100644", "type": "blob", "sha": sha(d), "size": len(d)} for p, d in self.files.items()]})

        def blob(req: Request) -> Reply:
            wanted = req.match.group(1) if req.match else ""
            data = next(d for d in self.files.values() if sha(d) == wanted)
            return json_reply({"sha": wanted, "size": len(data), "encoding": "base64",
                               "content": base64.encodebytes(data).decode()})

        server.route("GET", "/repos/acme/handbook", guarded(lambda req: json_reply(
            {"name": "handbook", "full_name": "acme/handbook", "default_branch": "main"})))
        server.route("GET", "/repos/acme/handbook/git/trees/main", guarded(tree))
        server.route("GET", "/repos/acme/handbook/git/blobs/([0-9a-f]+)", guarded(blob))
        server.route("GET", "/repos/acme/handbook/issues", guarded(lambda req: json_reply(self.issues if req.arg("page") == "1" else [])))
        server.route("GET", "/repos/acme/handbook/issues/1/comments", guarded(lambda req: json_reply(self.comments)))


def test_github_files_and_issues(capi: Api, fake: FakeServer) -> None:
    gh = FakeGitHub(fake)
    config = {"repository_owner": "acme", "repository_name": "handbook", "include_issues": True,
              "include_pull_requests": False, "base_url": fake.base_url, "sync_deleted_files": True,
              "credentials": {"github_access_token": "ghp_test"}}
    assert capi.call("POST", "/api/v1/connectors/github/test", json={"source": "github", "config": config})["data"] is True
    bad = capi.call("POST", "/api/v1/connectors/github/test",
                    json={"source": "github", "config": {**config, "credentials": {"github_access_token": "nope"}}})
    assert bad["code"] == 102 and bad["message"] == "GitHub refused the credentials (HTTP 401): Bad credentials"
    ds = make_dataset(capi, "github")
    conn = create_connector(capi, "github", config, prune_freq=0)
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 3
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 3)}
    assert set(ids) == {"intro.md", "guide.txt", "handbook Issue #1 Flaky build.md"}

    gh.files["docs/intro.md"] = b"# Intro\n\nThe handbook explains onboarding rituals and the coffee rota.\n"
    del gh.files["docs/guide.txt"]
    gh.issues[0] = {**gh.issues[0], "comments": 1, "updated_at": "2026-02-01T00:00:00Z"}
    gh.comments[:] = [{"user": {"login": "cy"}, "body": "Reproduced during the lunar eclipse."}]
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_removed"], run["docs_unchanged"]) == (2, 1, 0), run
    after = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 2)}
    assert after == {n: ids[n] for n in ("intro.md", "handbook Issue #1 Flaky build.md")}
    hit = retrieve(capi, question="lunar eclipse reproduced", dataset_ids=[ds])["chunks"][0]
    assert hit["document_id"] == ids["handbook Issue #1 Flaky build.md"] and "lunar eclipse" in hit["content"]
    assert len(fake.calls("GET", "/repos/acme/handbook/git/blobs/.*")) == 3  # 2 files first, then only the edited one


# ---- Confluence -----------------------------------------------------------------------------------------------------
def test_confluence_space_pages(capi: Api, fake: FakeServer) -> None:
    pages = {"101": {"title": "Onboarding", "version": 3, "body": "<p>New joiners shadow a mentor for a week.</p>"},
             "102": {"title": "Holidays", "version": 1, "body": "<p>The office closes between the holidays.</p>"}}
    auth = "Basic " + base64.b64encode(b"ada@example.com:atl-token").decode()

    def guarded(handler: Any) -> Any:
        return lambda req: handler(req) if authorised(req, auth) else json_reply({"message": "Unauthorized"}, 401)

    def search(req: Request) -> Reply:
        assert req.arg("cql") == 'type=page and space="ENG"'
        results = [{"id": pid, "type": "page", "status": "current", "title": p["title"], "version": {"number": p["version"]},
                    "space": {"key": "ENG"}} for pid, p in pages.items()]
        return json_reply({"results": results, "start": 0, "limit": 50, "size": len(results), "_links": {}})

    def content(req: Request) -> Reply:
        pid = req.match.group(1) if req.match else ""
        page = pages[pid]
        return json_reply({"id": pid, "type": "page", "title": page["title"], "version": {"number": page["version"]},
                           "body": {"storage": {"value": page["body"], "representation": "storage"}},
                           "_links": {"webui": f"/spaces/ENG/pages/{pid}"}})

    fake.route("GET", "/wiki/rest/api/space", guarded(lambda req: json_reply({"results": [{"key": "ENG"}], "size": 1})))
    fake.route("GET", "/wiki/rest/api/content/search", guarded(search))
    fake.route("GET", "/wiki/rest/api/content/(\\d+)", guarded(content))
    config = {"wiki_base": f"{fake.base_url}/wiki", "is_cloud": True, "index_mode": "space", "space": "ENG",
              "sync_deleted_files": True, "credentials": {"confluence_username": "ada@example.com",
                                                          "confluence_access_token": "atl-token"}}
    assert capi.call("POST", "/api/v1/connectors/confluence/test", json={"source": "confluence", "config": config})["data"] is True
    ds = make_dataset(capi, "wiki")
    conn = create_connector(capi, "confluence", config, prune_freq=0)
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 2
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 2)}
    pages["101"] = {**pages["101"], "version": 4, "body": "<p>New joiners shadow a mentor for two weeks now.</p>"}
    del pages["102"]
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_removed"]) == (1, 1)
    assert [(d["name"], d["id"]) for d in wait_parsed(capi, ds, 1)] == [("Onboarding.html", ids["Onboarding.html"])]
    assert "two weeks" in retrieve(capi, question="mentor two weeks", dataset_ids=[ds])["chunks"][0]["content"]
    missing = capi.call("POST", "/api/v1/connectors/confluence/test",
                        json={"source": "confluence", "config": {**config, "space": ""}})
    assert missing["message"] == "Space Key is required when indexing a specific Confluence space."


# ---- Notion ---------------------------------------------------------------------------------------------------------
def notion_page(pid: str, title: str, edited: str) -> dict[str, Any]:
    return {"object": "page", "id": pid, "created_time": "2026-01-01T00:00:00.000Z", "last_edited_time": edited,
            "archived": False, "in_trash": False, "url": f"https://www.notion.so/{pid}",
            "parent": {"type": "workspace", "workspace": True},
            "properties": {"title": {"id": "title", "type": "title",
                                     "title": [{"type": "text", "text": {"content": title}, "plain_text": title}]}}}


def paragraph(bid: str, text: str, kind: str = "paragraph") -> dict[str, Any]:
    return {"object": "block", "id": bid, "type": kind, "has_children": False,
            kind: {"rich_text": [{"type": "text", "text": {"content": text}, "plain_text": text}]}}


def test_notion_page_tree(capi: Api, fake: FakeServer) -> None:
    pages = {"root-1": notion_page("root-1", "Field guide", "2026-01-01T00:00:00.000Z"),
             "child-2": notion_page("child-2", "Birds", "2026-01-01T00:00:00.000Z")}
    children = {"root-1": [paragraph("b1", "Field guide to the bush.", "heading_1"), paragraph("b2", "Bring water."),
                           {"object": "block", "id": "child-2", "type": "child_page", "has_children": True,
                            "child_page": {"title": "Birds"}}],
                "child-2": [paragraph("b3", "Kookaburras laugh at dawn.")]}
    headers: list[dict[str, str]] = []

    def guarded(handler: Any) -> Any:
        def answer(req: Request) -> Reply:
            headers.append(req.headers)
            if not authorised(req, "Bearer secret_notion"):
                return json_reply({"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}, 401)
            return handler(req)
        return answer

    def page(req: Request) -> Reply:
        pid = req.match.group(1) if req.match else ""
        if pid not in pages:
            return json_reply({"object": "error", "status": 404, "code": "object_not_found", "message": "Could not find page"}, 404)
        return json_reply(pages[pid])

    def blocks(req: Request) -> Reply:
        bid = req.match.group(1) if req.match else ""
        return json_reply({"object": "list", "results": children.get(bid, []), "next_cursor": None, "has_more": False})

    fake.route("GET", "/v1/pages/([\\w-]+)", guarded(page))
    fake.route("GET", "/v1/blocks/([\\w-]+)/children", guarded(blocks))
    config = {"root_page_id": "root-1", "base_url": fake.base_url, "sync_deleted_files": True,
              "credentials": {"notion_integration_token": "secret_notion"}}
    assert capi.call("POST", "/api/v1/connectors/notion/test", json={"source": "notion", "config": config})["data"] is True
    bad = capi.call("POST", "/api/v1/connectors/notion/test",
                    json={"source": "notion", "config": {**config, "credentials": {"notion_integration_token": "x"}}})
    assert bad["message"] == "Notion credential appears to be invalid or expired (HTTP 401)."
    ds = make_dataset(capi, "notion")
    conn = create_connector(capi, "notion", config, prune_freq=0)
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 2
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 2)}
    assert set(ids) == {"Field guide.md", "Birds.md"}
    assert all(h.get("notion-version") == "2022-06-28" for h in headers)

    pages["root-1"] = notion_page("root-1", "Field guide", "2026-02-01T00:00:00.000Z")
    children["root-1"] = [paragraph("b1", "Field guide to the bush.", "heading_1"), paragraph("b2", "Bring water and a hat.")]
    del pages["child-2"]
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_removed"]) == (1, 1)
    assert [(d["name"], d["id"]) for d in wait_parsed(capi, ds, 1)] == [("Field guide.md", ids["Field guide.md"])]
    assert "a hat" in retrieve(capi, question="bring water hat", dataset_ids=[ds])["chunks"][0]["content"]
