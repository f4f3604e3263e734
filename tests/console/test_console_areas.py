"""The console's pages for the rest of the API, each walked through its main flow in headless Chromium against a
real local server: agents (templates with inputs, a pasted DSL, sessions, versions, the DSL), the file manager
(folders, rename, move, delete), memories (messages, recall, forget), search apps (ask, related questions), an
embedded bot (the snippet, and its page answering without a login), team invitations and Langfuse keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.browser import (
    all_css,
    button,
    css,
    labelled,
    login_with_key,
    on_page,
    only_public_api,
    shot,
    wait_for,
)
from tests.console.conftest import ConsoleServer
from tests.fakes.langfuse_server import FakeLangfuse

FACTS = b"The Nile is the longest river in Africa.\n\nMount Everest is the highest mountain above sea level.\n"


@pytest.fixture(scope="module")
def facts(console_server: ConsoleServer) -> str:
    return console_server.dataset_with("facts", {"facts.txt": FACTS})


@pytest.fixture
def d(browser: Any, console_server: ConsoleServer) -> Iterator[Any]:
    login_with_key(browser, console_server.base_url, console_server.key, fresh=False)
    yield browser


def go(d: Any, section: str, heading: str) -> None:
    css(d, f'nav a[data-section="{section}"]').click()
    on_page(d, heading)


def test_agents(d: Any, console_server: ConsoleServer, screenshots: Path) -> None:
    from selenium.webdriver.support.ui import Select

    srv = console_server
    go(d, "agents", "Agents")
    # a template whose Begin component asks for inputs: the run form shows them, the answer uses them
    labelled(d, "New agent title").send_keys("greeter")
    Select(labelled(d, "Start from")).select_by_value("form")
    assert "Begin inputs" in css(d, "form[aria-label='Create an agent'] .help").text
    button(d, "Create agent").click()
    on_page(d, "greeter")
    labelled(d, "Your name").send_keys("Ada")
    Select(labelled(d, "Tone")).select_by_visible_text("formal")
    labelled(d, "Your message").send_keys("good morning")
    button(d, "Run").click()
    wait_for(lambda: "Hello Ada (formal): you said “good morning”." in css(d, ".log").text, "the answer with the inputs", driver=d)
    agent_id = re.search(r"#/agents/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    [session] = srv.api("GET", f"/agents/{agent_id}/sessions")["data"]
    assert d.current_url.endswith(f"#/agents/{agent_id}/run/{session['id']}")
    shot(d, screenshots, "a1-agent-run")
    # a new session starts from the prologue; the sidebar reopens the earlier one
    css(d, ".sessions a.button").click()
    wait_for(lambda: css(d, ".log").text.strip() == "Fill in the form, then say something.", "a fresh session")
    css(d, f'.sessions a[href$="{session["id"]}"]').click()
    wait_for(lambda: "good morning" in css(d, ".log").text, "the earlier session's messages")
    # its versions and its DSL, read-only
    css(d, 'nav.tabs a[href$="/versions"]').click()
    css(d, "tr[data-version] button").click()
    assert '"component_name": "Begin"' in css(d, "pre.dsl").text
    shot(d, screenshots, "a2-agent-versions")
    css(d, 'nav.tabs a[href$="/dsl"]').click()
    dsl = json.loads(css(d, "pre.dsl").text)
    assert dsl["components"]["message:0"]["obj"]["component_name"] == "Message"
    assert "Begin" in css(d, "table[aria-label=Components]").text
    shot(d, screenshots, "a3-agent-dsl")
    # a pasted DSL: a component the server does not run is refused by name; a good one makes an agent
    go(d, "agents", "Agents")
    Select(labelled(d, "Start from")).select_by_value("paste")
    labelled(d, "New agent title").send_keys("pasted")
    bad = {**dsl, "components": {**dsl["components"], "message:0": {"obj": {"component_name": "WebSearch", "params": {}},
                                                                   "downstream": [], "upstream": ["begin"]}}}
    box = labelled(d, "DSL (JSON)")
    d.execute_script("arguments[0].value = arguments[1]", box, json.dumps(bad))
    button(d, "Create agent").click()
    wait_for(lambda: "WebSearch" in css(d, "#toasts").text, "the refusal naming the component")
    d.execute_script("arguments[0].value = arguments[1]", box, json.dumps(dsl))
    button(d, "Create agent").click()
    on_page(d, "pasted")
    assert srv.api("GET", "/agents", params={"title": "pasted"})["data"]["total"] == 1
    go(d, "agents", "Agents")
    wait_for(lambda: {a.text for a in all_css(d, "tr[data-agent] td:first-child a")} == {"greeter", "pasted"}, "both agents listed")
    shot(d, screenshots, "a4-agents")


def test_file_manager(d: Any, console_server: ConsoleServer, screenshots: Path, tmp_path: Path) -> None:
    srv = console_server
    go(d, "files", "Files")
    for name in ("reports", "archive"):
        labelled(d, "New folder name").send_keys(name)
        button(d, "Create folder").click()
        listed = f"{name}/"
        wait_for(lambda: any(r.text.startswith(listed) for r in all_css(d, "tr[data-file]")), f"the folder {name}")  # noqa: B023
    next(r for r in all_css(d, "tr[data-file]") if r.text.startswith("reports/")).find_element("css selector", "a").click()
    wait_for(lambda: css(d, "nav.crumbs").text == "Files / reports", "the folder's breadcrumb")
    draft = tmp_path / "draft.txt"
    draft.write_text("Quarterly numbers.\n")
    css(d, "input[type=file]").send_keys(str(draft))
    row: Any = wait_for(lambda: next((r for r in all_css(d, "tr[data-file]") if "draft.txt" in r.text), None), "the uploaded file")
    file_id = row.get_attribute("data-file")
    # rename
    css(d, 'button[aria-label="Rename draft.txt"]').click()
    prompt = d.switch_to.alert
    prompt.send_keys("q1.txt")
    prompt.accept()
    wait_for(lambda: "q1.txt" in css(d, f'tr[data-file="{file_id}"]').text, "the renamed file")
    shot(d, screenshots, "f1-folder")
    # move it to another folder, picked from the folder tree
    css(d, f'tr[data-file="{file_id}"] input[type=checkbox]').click()
    button(d, "Move selected…").click()
    wait_for(lambda: [b for b in all_css(d, "[data-floating] li button") if b.text == "archive/"], "the folder tree")[0].click()
    button(d, "Move here (archive)").click()
    wait_for(lambda: not all_css(d, f'tr[data-file="{file_id}"]'), "the file gone from reports")
    parent = srv.api("GET", f"/files/{file_id}/parent")["data"]["parent_folder"]
    assert parent["name"] == "archive"
    # up, and the emptied folder deleted
    css(d, 'nav.crumbs a[href="#/files"]').click()
    wait_for(lambda: css(d, "nav.crumbs").text == "Files", "the top folder")
    next(r for r in all_css(d, "tr[data-file]") if r.text.startswith("reports/")).find_element("css selector", "input").click()
    button(d, "Delete selected").click()
    d.switch_to.alert.accept()
    wait_for(lambda: [r.text.split("/")[0] for r in all_css(d, "tr[data-file]")] == ["archive"], "only archive left")
    shot(d, screenshots, "f2-files")


def test_memories(d: Any, console_server: ConsoleServer, screenshots: Path) -> None:
    srv = console_server
    go(d, "memories", "Memories")
    labelled(d, "New memory name").send_keys("assistant memory")
    assert "extractive" in labelled(d, "Extraction model").text
    button(d, "Create memory").click()
    on_page(d, "assistant memory")
    memory_id = re.search(r"#/memories/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    for n, (said, answered) in enumerate([("I live in Lisbon.", "Lisbon is sunny."), ("My favourite colour is green.", "Noted.")]):
        res = srv.api("POST", "/messages", json={"memory_id": [memory_id], "agent_id": "agent-1", "session_id": f"s{n}",
                                                 "user_input": said, "agent_response": answered})
        assert res["code"] == 0, res
    wait_for(lambda: srv.api("GET", f"/memories/{memory_id}")["data"]["messages"]["total_count"] == 2, "the messages kept")
    d.refresh()
    wait_for(lambda: len(all_css(d, "tr[data-message]:not(.extracted)")) == 2, "two messages listed")
    # recall by meaning
    labelled(d, "Recall").send_keys("where does the user live")
    button(d, "Search").click()
    first = css(d, "article.result")
    assert "Lisbon" in first.text
    # a message's content on demand, then forgotten
    lisbon = first.get_attribute("data-message")
    css(d, f'tr[data-message="{lisbon}"] button[aria-label="Show message {lisbon}"]').click()
    assert "I live in Lisbon." in css(d, "[data-floating] pre").text
    shot(d, screenshots, "m1-memory")
    d.find_element("css selector", "h1").click()
    css(d, f'button[aria-label="Forget message {lisbon}"]').click()
    d.switch_to.alert.accept()
    wait_for(lambda: not all_css(d, f'button[aria-label="Forget message {lisbon}"]'), "the message forgotten")
    go(d, "memories", "Memories")
    assert "assistant memory" in css(d, "table[aria-label=Memories]").text
    shot(d, screenshots, "m2-memories")


def test_search_app(d: Any, console_server: ConsoleServer, screenshots: Path, facts: str) -> None:
    srv = console_server
    go(d, "searches", "Search")
    shot(d, screenshots, "s0-searches")
    labelled(d, "New search app name").send_keys("finder")
    labelled(d, "facts").click()
    button(d, "Create search app").click()
    on_page(d, "finder")
    labelled(d, "Question").send_keys("Which river is the longest?")
    button(d, "Search").click()
    wait_for(lambda: "Nile" in css(d, "section[aria-label=Answer] .bubble").text, "the streamed answer", driver=d)
    assert "longest river" in css(d, "section[aria-label=Answer] article.result").text  # the passage it found
    related = wait_for(lambda: all_css(d, "ul.related button"), "related questions")
    shot(d, screenshots, "s1-search")
    asked = related[0].text
    related[0].click()
    wait_for(lambda: labelled(d, "Question").get_attribute("value") == asked, "the related question asked")
    search_id = re.search(r"#/searches/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    assert srv.api("GET", f"/searches/{search_id}")["data"]["search_config"]["kb_ids"] == [facts]


def test_embedded_bot(d: Any, console_server: ConsoleServer, screenshots: Path, facts: str) -> None:
    from selenium.webdriver.support.ui import Select

    srv = console_server
    chat = srv.api("POST", "/chats", json={"name": "facts bot", "dataset_ids": [facts]})["data"]
    go(d, "embed", "Embed")
    Select(labelled(d, "Bot")).select_by_visible_text("facts bot")
    snippet = labelled(d, "Snippet").get_attribute("value")
    src = re.search(r'<iframe src="([^"]+)"', snippet)[1]  # type: ignore[index]
    betas = {t["beta"] for t in srv.api("GET", "/system/tokens")["data"]}
    assert re.fullmatch(rf"{re.escape(srv.base_url)}/console/#/share/chat/{chat['id']}\?auth=(.+)", src)[1] in betas  # type: ignore[index]
    shot(d, screenshots, "e1-embed")
    # the bot's page, as a visitor sees it: no login, no console around it
    d.execute_script("localStorage.clear()")
    d.get(src)
    d.refresh()
    on_page(d, "facts bot")
    assert not css(d, "header.top").is_displayed()
    labelled(d, "Your question").send_keys("Which mountain is the highest?")
    button(d, "Send").click()
    wait_for(lambda: "Everest" in all_css(d, ".log .bubble.assistant")[-1].text, "the bot's answer", driver=d)
    shot(d, screenshots, "e2-shared-bot")
    [visit] = srv.api("GET", f"/chats/{chat['id']}/sessions")["data"]
    assert visit["user_id"].startswith("visitor-") and visit["messages"][-2]["content"] == "Which mountain is the highest?"


def test_team(browser: Any, console_server: ConsoleServer, screenshots: Path) -> None:
    d, srv = browser, console_server
    login_with_key(d, srv.base_url, srv.key)
    go(d, "team", "Team")
    assert "Teams belong to accounts" in css(d, "main").text  # an API key has no team
    for nickname in ("owner", "member"):
        made = httpx.post(f"{srv.base_url}/api/v1/users", json={"nickname": nickname, "email": f"{nickname}@team.example",
                                                                 "password": "team-pass-1"})
        assert made.json()["code"] == 0, made.text

    def log_in_as(nickname: str) -> None:
        d.get(srv.base_url + "/console/#/team")
        d.execute_script("localStorage.clear(); location.reload();")
        labelled(d, "Email").send_keys(f"{nickname}@team.example")
        labelled(d, "Password").send_keys("team-pass-1")
        button(d, "Log in").click()
        on_page(d, "Team")

    log_in_as("owner")
    labelled(d, "E-mail of an account to invite").send_keys("member@team.example")
    button(d, "Invite").click()
    wait_for(lambda: "invited" in css(d, "table[aria-label=Members] tbody tr").text, "the invitation listed")
    shot(d, screenshots, "t1-team-owner")
    log_in_as("member")
    invitation = css(d, "table[aria-label='Teams you belong to'] tbody tr")
    assert "owner@team.example" in invitation.text and "invited" in invitation.text
    button(d, "Join").click()
    wait_for(lambda: css(d, "table[aria-label='Teams you belong to'] tbody tr td:nth-child(3)").text == "member", "joined")
    shot(d, screenshots, "t2-team-member")
    button(d, "Log out").click()


def test_langfuse_keys(d: Any, console_server: ConsoleServer, screenshots: Path, langfuse: FakeLangfuse) -> None:
    srv = console_server
    go(d, "langfuse", "Langfuse")
    assert "No Langfuse keys" in css(d, "main").text
    [(public, secret)] = langfuse.keys.items()
    labelled(d, "Host").send_keys(langfuse.url)
    labelled(d, "Public key").send_keys(public)
    labelled(d, "Secret key").send_keys(secret)
    button(d, "Save keys").click()
    wait_for(lambda: public in css(d, "dl.facts").text, "the saved keys", driver=d)
    assert secret not in d.page_source  # shown masked, never whole
    assert srv.api("GET", "/langfuse/api-key")["data"]["public_key"] == public
    shot(d, screenshots, "l1-langfuse")
    button(d, "Remove keys").click()
    d.switch_to.alert.accept()
    wait_for(lambda: "No Langfuse keys" in css(d, "main").text, "the keys removed")


def test_every_request_is_public_api(console_server: ConsoleServer, browser: Any) -> None:
    """Runs last: these pages too reach the server only through public /api/v1 routes (the bot page through the
    bot routes)."""
    only_public_api(console_server)
