"""The console's files as the local server ships and serves them (no browser needed)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from functions.local import CONSOLE_DIR
from tests.conftest import ROOT, Api

FILES = sorted(p for p in CONSOLE_DIR.rglob("*") if p.is_file())
VENDOR = CONSOLE_DIR / "vendor"  # pdf.js as Mozilla builds it (Apache-2.0): opened from bytes, it fetches nothing


def test_root_opens_the_console_and_api_errors_stay_envelopes(api: Api) -> None:
    res = api.client.get("/", follow_redirects=False)
    assert res.status_code == 307 and res.headers["location"] == "/console/"
    page = api.client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    script = api.client.get("/console/pages/documents.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]  # modules need a JS type
    assert api.client.get("/console/config.json").json() == {"api_base": "", "stream_base": ""}
    missing = api.client.get("/api/v1/no-such-route", headers=api.headers())
    assert missing.status_code == 404 and missing.json()["code"] == 404  # the mount does not swallow /api/v1


def test_nothing_is_fetched_from_outside() -> None:
    """Works offline and air-gapped: no CDN, font or script from another host; only relative or /api/v1 paths."""
    assert {p.name for p in FILES} >= {"index.html", "app.js", "api.js", "console.css"}
    assert sorted(p.name for p in FILES if VENDOR in p.parents) == ["LICENSE", "pdf.min.js", "pdf.worker.min.js"]
    for path in (p for p in FILES if VENDOR not in p.parents):
        text = path.read_text().replace('"http://www.w3.org/2000/svg"', "")  # SVG's namespace: a name, never fetched
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text, re.I), path.name


def test_every_file_is_package_data() -> None:
    """A file the globs in pyproject.toml miss would be absent from an installed wheel."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ragcore"]
    root = CONSOLE_DIR.parent
    for path in FILES:
        rel = str(path.relative_to(root))
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


def test_module_imports_resolve() -> None:
    """Every relative import names a file that exists (a typo would only show as a blank page)."""
    for path in (p for p in FILES if p.suffix == ".js"):
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', path.read_text()):
            assert (path.parent / target).resolve().is_file(), f"{path.name}: {target}"


def test_api_paths_in_the_code_are_public_routes(api: Api) -> None:
    """Each literal /api path the console builds matches a route of the OpenAPI schema (the browser test checks the
    calls it makes; this covers the pages it does not visit)."""
    schema = api.client.get("/openapi.json").json()
    patterns = [re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", p) + "$") for p in schema["paths"]]
    found: set[str] = set()
    for path in (p for p in FILES if p.suffix == ".js" and VENDOR not in p.parents):
        calls = r'(?:(?:get|post|put|patch|del|call|upload|stream|agentStream|blobUrl|blob|signIn|pageSource)\((?:"[A-Z]+", )?'
        calls += r'|withToken\(\w+, "[A-Z]+", |const base = )[`"](/[^`"]*)[`"]'
        for literal in re.findall(calls, path.read_text()):
            found.add("/api/v1" + re.sub(r"\$\{[^}]+\}", "x" * 32, literal))
    assert len(found) > 50, found
    unknown = sorted(p for p in found if not any(rx.match(p) for rx in patterns))
    assert unknown == []


def test_console_dir_is_inside_the_package() -> None:
    assert Path(CONSOLE_DIR).parent.name == "ragcore"
