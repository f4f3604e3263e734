"""RSS/Atom feeds and websites from an HTTP server on loopback: entries and pages become documents, edits are
re-ingested under the same ids, what disappears is pruned; robots.txt, depth and same-site limits hold; a sitemap's
lastmod spares unchanged pages even the download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.docs_helpers import make_dataset, retrieve
from tests.conftest import Api
from tests.connectors.fake_http import FakeServer, serve, text_reply
from tests.connectors.helpers import create_connector, link, schedule, wait_parsed, wait_run


@pytest.fixture
def site() -> Iterator[FakeServer]:
    with serve() as fake:
        yield fake


def rss(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(f"<item><guid>{guid}</guid><title>{title}</title><link>https://example.com/{guid}</link>"
                    f"<description><![CDATA[<p>{body}</p>]]></description></item>" for guid, title, body in entries)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}</channel></rss>'


def test_feed_entries_sync_and_prune(capi: Api, site: FakeServer) -> None:
    entries = [("e1", "Gliders", "Sugar gliders glide between trees."), ("e2", "Numbats", "Numbats eat termites daily.")]
    site.route("GET", "/feed.xml", lambda req: text_reply(rss(entries), "application/rss+xml"))
    ds = make_dataset(capi, "news")
    conn = create_connector(capi, "rss", {"feed_url": f"{site.base_url}/feed.xml", "sync_deleted_files": True}, prune_freq=0)
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 2
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 2)}
    assert set(ids) == {"Gliders.html", "Numbats.html"}

    entries[:] = [("e1", "Gliders", "Sugar gliders glide up to fifty metres.")]
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_removed"]) == (1, 1)
    assert [(d["name"], d["id"]) for d in wait_parsed(capi, ds, 1)] == [("Gliders.html", ids["Gliders.html"])]
    assert "fifty metres" in retrieve(capi, question="gliders fifty metres", dataset_ids=[ds])["chunks"][0]["content"]


def test_feed_check(capi: Api, site: FakeServer) -> None:
    atom = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
            '<entry><id>urn:1</id><title>One</title><content type="html">Hello</content></entry></feed>')
    site.route("GET", "/atom.xml", lambda req: text_reply(atom, "application/atom+xml"))
    site.route("GET", "/empty.xml", lambda req: text_reply(rss([]), "application/rss+xml"))

    def check(path: str) -> dict[str, Any]:
        return capi.call("POST", "/api/v1/connectors/rss/test", json={"source": "rss", "config": {"feed_url": site.base_url + path}})

    assert check("/atom.xml")["data"] is True
    assert check("/empty.xml")["message"] == "RSS feed contains no entries"
    assert check("/missing.xml")["message"].startswith("The feed answered HTTP 404")


PAGES = {
    "/": '<html><head><title>Home</title></head><body><a href="/a">A</a> <a href="/b#top">B</a> '
         '<a href="/private/x">secret</a> <a href="https://elsewhere.example/">out</a> <a href="/notes.md">notes</a></body></html>',
    "/a": '<html><head><title>Page A</title></head><body>Bettongs dig for truffles. <a href="/a/deep">deeper</a></body></html>',
    "/a/deep": "<html><head><title>Deep</title></head><body>Too deep to crawl.</body></html>",
    "/b": "<html><head><title>Page B</title></head><body>Quolls are spotted hunters.</body></html>",
    "/private/x": "<html><body>Robots say no.</body></html>",
}


def serve_pages(site: FakeServer, pages: dict[str, str]) -> None:
    def page(req: Any) -> Any:
        body = pages.get(req.path)
        return text_reply(body) if body is not None else text_reply("gone", status=404)

    site.route("GET", "/(?!robots\\.txt|notes\\.md|sitemap\\.xml).*", page)
    site.route("GET", "/robots.txt", lambda req: text_reply("User-agent: *\nDisallow: /private/\n", "text/plain"))
    site.route("GET", "/notes.md", lambda req: text_reply("# Notes\n\nPademelons are small wallabies.\n", "text/markdown"))


def test_website_crawl_obeys_robots_depth_and_site(capi: Api, site: FakeServer) -> None:
    pages = dict(PAGES)
    serve_pages(site, pages)
    ds = make_dataset(capi, "site")
    conn = create_connector(capi, "website", {"url": f"{site.base_url}/", "max_depth": 1, "sync_deleted_files": True},
                            prune_freq=0)
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 4
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 4)}
    assert set(ids) == {"Home.html", "Page A.html", "Page B.html", "notes.md"}
    assert not site.calls("GET", "/private/.*") and not site.calls("GET", "/a/deep")

    pages["/b"] = "<html><head><title>Page B</title></head><body>Quolls are spotted marsupial hunters at night.</body></html>"
    pages["/"] = pages["/"].replace('<a href="/a">A</a>', "")
    del pages["/a"]
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_removed"], run["docs_unchanged"]) == (2, 1, 1), run  # home and B changed
    after = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 3)}
    assert after == {n: ids[n] for n in ("Home.html", "Page B.html", "notes.md")}
    assert "at night" in retrieve(capi, question="quolls hunters night", dataset_ids=[ds])["chunks"][0]["content"]


def test_sitemap_lastmod_spares_unchanged_pages_the_download(capi: Api, site: FakeServer) -> None:
    serve_pages(site, PAGES)
    lastmod = {"/a": "2026-01-01", "/b": "2026-01-01"}

    def sitemap(req: Any) -> Any:
        urls = "".join(f"<url><loc>{site.base_url}{p}</loc><lastmod>{m}</lastmod></url>" for p, m in lastmod.items())
        return text_reply(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
                          f'<url><loc>{site.base_url}/private/x</loc></url></urlset>', "application/xml")

    site.route("GET", "/sitemap.xml", sitemap)
    ds = make_dataset(capi, "mapped")
    conn = create_connector(capi, "website", {"sitemap_url": f"{site.base_url}/sitemap.xml"})
    link(capi, ds, conn["id"])
    assert wait_run(capi, conn["id"])["docs_added"] == 2
    wait_parsed(capi, ds, 2)
    fetched_b = len(site.calls("GET", "/b"))
    lastmod["/a"] = "2026-02-01"
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert (run["docs_updated"], run["docs_unchanged"]) == (1, 1)
    assert len(site.calls("GET", "/b")) == fetched_b and len(site.calls("GET", "/a")) == 2
    assert not site.calls("GET", "/private/.*")
