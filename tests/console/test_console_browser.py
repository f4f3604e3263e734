"""The web console in headless Chromium against a real local server: log in, create a dataset, upload two files,
watch them reach DONE, edit a chunk, test retrieval, chat and open a citation; API keys, phone width, and every
request the console made is a public /api/v1 route (read from the server's access log)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.browser import (
    all_css,
    button,
    click,
    css,
    heading,
    labelled,
    login_with_key,
    on_page,
    only_public_api,
    shot,
    wait_for,
)
from tests.console.conftest import ConsoleServer
from tests.fakes.openai_server import FakeOpenAI
from tests.unit.files_factory import make_pdf

# counts of dark (text, also under the highlight) and amber (highlight) pixels on a canvas
PAGE_PIXELS = """
const data = arguments[0].getContext("2d").getImageData(0, 0, arguments[0].width, arguments[0].height).data;
let ink = 0, tint = 0;
for (let i = 0; i < data.length; i += 4) {
  const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
  if ((r + g + b) / 3 < 150 && r < 180) ink++;
  else if (r > 200 && g > 100 && b < 200 && r - b > 60) tint++;
}
return [ink, tint];
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("uploads")
    pdf = folder / "rivers.pdf"
    pdf.write_bytes(make_pdf([["The Nile is the longest river in Africa.", "It flows north into the Mediterranean Sea."],
                              ["The Amazon carries more water than any other river."]]))
    notes = folder / "mountains.md"
    notes.write_text("# Mountains\n\nMount Everest is the highest mountain above sea level.\n\n"
                     "K2 is the second highest mountain on Earth.\n")
    return [pdf, notes]


def test_console_flow(browser: Any, console_server: ConsoleServer, screenshots: Path, files: list[Path]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    d, srv = browser, console_server
    started = time.time()
    d.get(srv.base_url + "/console/")
    d.execute_script("localStorage.clear(); sessionStorage.clear();")  # a first visit, whatever ran in this browser before
    d.get(srv.base_url + "/")
    assert d.current_url.endswith("/console/")
    labelled(d, "API key").send_keys("ragflow-not-a-key")
    button(d, "Log in with key").click()
    assert "not valid" in wait_for(lambda: css(d, "[role=alert]").text, "the refusal")
    shot(d, screenshots, "01-login")
    key_box = labelled(d, "API key")
    key_box.clear()
    key_box.send_keys(srv.key)
    button(d, "Log in with key").click()
    wait_for(lambda: heading(d) == "Datasets", "the datasets page")

    # a dataset; each chunk method says what it does
    method = Select(labelled(d, "Chunk method"))
    method.select_by_value("qa")
    assert "each question and its answer" in css(d, "form[aria-label='Create a dataset'] .help").text
    method.select_by_value("naive")
    assert "right for most documents" in css(d, "form[aria-label='Create a dataset'] .help").text
    labelled(d, "New dataset name").send_keys("handbook")
    button(d, "Create dataset").click()
    wait_for(lambda: heading(d) == "handbook", "the new dataset's page")
    dataset_id = re.search(r"#/datasets/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    [stored] = srv.api("GET", "/datasets", params={"id": dataset_id})["data"]
    assert stored["name"] == "handbook"

    # two files, parsed after upload, watched until DONE
    css(d, "input[type=file]").send_keys("\n".join(str(f) for f in files))
    wait_for(lambda: len(all_css(d, "tr[data-doc]")) == 2, "two document rows")
    wait_for(lambda: [c.get_attribute("data-run") for c in all_css(d, "td[data-run]")] == ["DONE", "DONE"],
             "both documents DONE")
    shot(d, screenshots, "02-documents")
    docs = srv.api("GET", f"/datasets/{dataset_id}/documents")["data"]["docs"]
    assert sorted((doc["name"], doc["run"]) for doc in docs) == [("mountains.md", "DONE"), ("rivers.pdf", "DONE")]
    assert all(doc["chunk_count"] > 0 for doc in docs)
    pdf_id = next(doc["id"] for doc in docs if doc["name"] == "rivers.pdf")

    # a chunk, edited; its page names the dataset and opens at its top, wherever the list was scrolled to
    d.set_window_size(1366, 500)
    d.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert d.execute_script("return window.scrollY") > 0
    css(d, f'tr[data-doc="{pdf_id}"] a').click()
    wait_for(lambda: heading(d) == "rivers.pdf", "the chunks page")
    assert css(d, "nav.crumbs").text == "Datasets / handbook / rivers.pdf"
    assert d.execute_script("return window.scrollY") == 0
    d.set_window_size(1366, 900)
    first = css(d, "article[data-chunk]")
    chunk_id = first.get_attribute("data-chunk")
    button(d, "Edit").click()
    editor = labelled(d, "Content")
    editor.clear()
    editor.send_keys("The Nile is the longest river in Africa; its delta is famously fertile.")
    labelled(d, "Keywords").send_keys("delta, Nile")
    shot(d, screenshots, "03-chunk-edit")
    button(d, "Save chunk").click()
    wait_for(lambda: "famously fertile" in css(d, f'article[data-chunk="{chunk_id}"] .content').text, "the edited chunk")
    saved = srv.api("GET", f"/datasets/{dataset_id}/documents/{pdf_id}/chunks/{chunk_id}")["data"]
    saved = saved.get("chunk", saved)
    assert saved["content"].endswith("famously fertile.") and saved["important_keywords"] == ["delta", "Nile"]
    # where the chunk sits: its positions drawn on the page (the layout parser gives them for PDFs)
    [[page, *_]] = saved["positions"][:1]
    page_map = css(d, f'article[data-chunk="{chunk_id}"] .pagemap svg')
    assert page_map.get_attribute("aria-label").startswith(f"page {page}:")
    assert len(page_map.find_elements("css selector", "rect.hit")) == len([p for p in saved["positions"] if p[0] == page])
    assert "1 chunk(s) · DONE" in css(d, "main p.muted").text
    # and on the real page: pdf.js draws the PDF the download route serves, the chunk's boxes highlighted on it
    css(d, f'article[data-chunk="{chunk_id}"] button[aria-expanded="false"]').click()
    canvas = css(d, f'article[data-chunk="{chunk_id}"] canvas.page[aria-label="page {page} with the chunk highlighted"]')
    counts: list[Any] = []
    wait_for(lambda: (counts.append(d.execute_script(PAGE_PIXELS, canvas)) or min(counts[-1]) > 200), "the drawn page")
    ink, tint = counts[-1]
    assert ink > 200 and tint > 200  # the page's text (dark pixels) and the highlight (amber ones) were drawn
    shot(d, screenshots, "04-chunks")
    # a chunk added by hand, then deleted
    labelled(d, "Content").send_keys("A hand-written note about the Congo river.")
    button(d, "Add chunk").click()
    added = wait_for(lambda: [c for c in all_css(d, "article[data-chunk]") if "Congo" in c.text], "the added chunk")[0]
    added_id = added.get_attribute("data-chunk")
    assert srv.api("GET", f"/datasets/{dataset_id}/documents/{pdf_id}/chunks/{added_id}")["code"] == 0
    added.find_element("css selector", "button.danger").click()
    d.switch_to.alert.accept()
    wait_for(lambda: not [c for c in all_css(d, "article[data-chunk]") if "Congo" in c.text], "the chunk gone")
    assert srv.api("GET", f"/datasets/{dataset_id}/documents/{pdf_id}/chunks")["data"]["total"] == 1

    # retrieval testing: the edited chunk comes first with its terms highlighted
    d.get(f"{srv.base_url}/console/#/datasets/{dataset_id}/retrieval")
    labelled(d, "Question").send_keys("fertile delta")
    button(d, "Test retrieval").click()
    result = css(d, "article.result")
    assert result.get_attribute("data-chunk") == chunk_id
    marks = {m.text.lower() for m in all_css(d, "article.result mark")}
    assert {"fertile", "delta"} <= marks, marks
    assert re.search(r"term \d\.\d{3}", result.text) and re.search(r"vector \d\.\d{3}", result.text)
    shot(d, screenshots, "05-retrieval")

    # settings: parser_config through the form, persisted
    d.get(f"{srv.base_url}/console/#/datasets/{dataset_id}/settings")
    size_box = labelled(d, "Chunk size (tokens)")
    size_box.clear()
    size_box.send_keys("256")
    labelled(d, "Description").send_keys("Rivers and mountains of the world.")
    shot(d, screenshots, "06-settings")
    button(d, "Save settings").click()
    wait_for(lambda: srv.api("GET", "/datasets", params={"id": dataset_id})["data"][0]["parser_config"]["chunk_token_num"] == 256,
             "the saved chunk size")
    assert srv.api("GET", "/datasets", params={"id": dataset_id})["data"][0]["parser_config"]["delimiter"] == "\n"
    # the datasets list: each with its description and counts at a glance
    css(d, 'nav a[data-section="datasets"]').click()
    card = css(d, f'li[data-dataset="{dataset_id}"]')
    assert "Rivers and mountains of the world." in card.text
    assert re.search(r"\b2 documents · \d+ chunks · naive\b", card.text), card.text
    shot(d, screenshots, "06-datasets")

    # a chat over the dataset: the model picker says the default answers extractively
    css(d, 'nav a[data-section="chats"]').click()
    wait_for(lambda: heading(d) == "Chats", "the chats page")
    shot(d, screenshots, "07-chats")
    assert Select(labelled(d, "Chat model")).first_selected_option.text == \
        "default: extractive (no language model configured) — add a provider under Models"
    labelled(d, "New chat name").send_keys("river guide")
    labelled(d, "handbook").click()
    button(d, "Create chat").click()
    wait_for(lambda: heading(d) == "river guide", "the chat page")
    assert "model extractive (no language model configured) — add a provider under Models" in css(d, "main p.muted").text
    chat_id = re.search(r"#/chats/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    for name in ("A session whose title goes on well past the width of any sidebar you would give it, and on",
                 "an-unbroken-session-title-with-no-spaces-to-wrap-at-anywhere-along-its-whole-length"):
        assert srv.api("POST", f"/chats/{chat_id}/sessions", json={"name": name})["code"] == 0
    # a streamed answer; the sidebar keeps its width and long titles end in an ellipsis (shot checks no overlap)
    labelled(d, "Your question").send_keys("Which river is the longest?")
    button(d, "Send").click()
    cite = css(d, ".bubble.assistant button.cite")
    wait_for(lambda: len(all_css(d, ".sessions li a")) == 3, "the three sessions listed")
    assert css(d, "nav.sessions").size["width"] <= 240
    shot(d, screenshots, "07-chat")
    # a citation: a popover at its marker with the passage, its place on the page, and the page itself
    cite.click()
    popover = css(d, "[data-floating][role=dialog]")
    assert "longest river" in popover.text and "rivers.pdf" in popover.text
    assert popover.find_elements("css selector", ".pagemap rect.hit")
    marker, box = cite.rect, popover.rect
    assert abs(box["y"] - (marker["y"] + marker["height"])) < 20 or abs(box["y"] + box["height"] - marker["y"]) < 20
    css(d, "[data-floating] button.thumbs").click()  # the thumbnails and "Show on the page" are one button
    drawn = css(d, "[data-floating] canvas.page")
    wait_for(lambda: min(d.execute_script(PAGE_PIXELS, drawn)) > 200, "the cited page drawn")
    shot(d, screenshots, "08-citation")
    ActionChains(d).send_keys(Keys.ESCAPE).perform()
    wait_for(lambda: not all_css(d, "[data-floating]"), "the popover closed by Escape")
    [session] = srv.api("GET", f"/chats/{chat_id}/sessions", params={"name": "Which river is the longest?"})["data"]
    assert session["messages"][-1]["role"] == "assistant" and "[ID:" in session["messages"][-1]["content"]
    # back to the chat from the list: its latest session opens, not a new one
    css(d, 'nav a[data-section="chats"]').click()
    css(d, f'a[href="#/chats/{chat_id}"]').click()
    wait_for(lambda: d.current_url.endswith(f"#/chats/{chat_id}/{session['id']}"), "the last session reopened")
    assert "Which river is the longest?" in css(d, ".log").text
    click(d, ".bubble.assistant button.cite")  # its citations still open their passage
    assert "longest river" in css(d, "[data-floating]").text

    # an agent from a template over the dataset, run: the answer streams in
    css(d, 'nav a[data-section="agents"]').click()
    on_page(d, "Agents")
    labelled(d, "New agent title").send_keys("river agent")
    Select(labelled(d, "Start from")).select_by_value("datasets")
    labelled(d, "handbook").click()
    button(d, "Create agent").click()
    on_page(d, "river agent")
    assert "Hi! Ask me about your documents." in css(d, ".log").text  # the Begin component's prologue
    labelled(d, "Your message").send_keys("Which river is the longest?")
    button(d, "Run").click()
    wait_for(lambda: "Nile" in all_css(d, ".log .bubble.assistant")[-1].text and "Finished" in css(d, "p[aria-live]").text,
             "the agent's answer", driver=d)
    agent_id = re.search(r"#/agents/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    [run] = srv.api("GET", f"/agents/{agent_id}/sessions")["data"]
    assert run["message"][-1]["role"] == "assistant" and "Nile" in run["message"][-1]["content"]
    shot(d, screenshots, "09-agent-run")
    d.refresh()  # the session reopened: its answer keeps its citation
    click(d, ".log .bubble.assistant button.cite")
    assert "longest river" in css(d, "[data-floating]").text

    # the file manager: a file uploaded there, linked to the dataset, becomes one of its documents
    css(d, 'nav a[data-section="files"]').click()
    on_page(d, "Files")
    lakes = files[0].parent / "lakes.txt"
    lakes.write_text("Lake Baikal is the deepest lake in the world.\n")
    css(d, "input[type=file]").send_keys(str(lakes))
    row: Any = wait_for(lambda: next((r for r in all_css(d, "tr[data-file]") if "lakes.txt" in r.text), None), "the uploaded file")
    row.find_element("css selector", "input[type=checkbox]").click()
    button(d, "Link selected to datasets…").click()
    css(d, "[data-floating] input[data-name=handbook]").click()
    button(d, "Link").click()
    wait_for(lambda: "handbook" in css(d, "tr[data-file] a.tag").text, "the dataset shown on the file's row")
    shot(d, screenshots, "10-files")
    names = [doc["name"] for doc in srv.api("GET", f"/datasets/{dataset_id}/documents")["data"]["docs"]]
    assert "lakes.txt" in names
    print(f"console flow: {time.time() - started:.1f}s")


def test_api_keys_models_and_account_login(browser: Any, console_server: ConsoleServer, screenshots: Path,
                                           deepseek: FakeOpenAI) -> None:
    from selenium.webdriver.support.ui import Select

    d, srv = browser, console_server
    # an account made through the API, logged into through the form (RAGFlow's RSA-encrypted password)
    made = httpx.post(f"{srv.base_url}/api/v1/users", json={"nickname": "ada", "email": "ada@example.com", "password": "s3cret-pass"})
    assert made.json()["code"] == 0, made.text
    d.get(srv.base_url + "/console/#/keys")
    d.execute_script("localStorage.clear(); location.reload();")
    labelled(d, "Email").send_keys("ada@example.com")
    labelled(d, "Password").send_keys("wrong-pass")
    button(d, "Log in").click()
    wait_for(lambda: css(d, "[role=alert]").text.strip(), "the refusal")
    password = labelled(d, "Password")
    password.clear()
    password.send_keys("s3cret-pass")
    button(d, "Log in").click()
    wait_for(lambda: heading(d) == "API keys", "the API keys page")
    assert "ada" in css(d, "#who").text
    button(d, "Create API key").click()
    new_key = wait_for(lambda: css(d, ".secret").text.strip(), "the new key")
    shot(d, screenshots, "11-api-keys")
    res = httpx.get(f"{srv.base_url}/api/v1/datasets", headers={"Authorization": f"Bearer {new_key}"})
    assert res.json()["code"] == 0 and res.json()["data"] == []  # ada's own tenant: none of the other tenant's data
    # a model provider: its key checked against it (a fake on loopback), then a default chat model
    d.get(srv.base_url + "/console/#/models")
    wait_for(lambda: heading(d) == "Models", "the models page")
    rows = {r.find_element("css selector", "td").text.split("\n")[0]: r.text for r in all_css(d, "table[aria-label=Models] tbody tr")}
    assert "default embedding (built in)" in rows["all-MiniLM-L6-v2"]
    assert "default chat (built in)" in rows["extractive"] and "No language model is configured" in rows["extractive"]
    Select(labelled(d, "Provider")).select_by_visible_text("DeepSeek")
    labelled(d, "API key").send_keys("sk-deepseek-test-123456")
    button(d, "Add provider").click()
    wait_for(lambda: "deepseek-v4-flash" in css(d, "table[aria-label=Models]").text, "DeepSeek's models", driver=d)
    assert deepseek.chat_requests()[-1]["headers"].get("Authorization", deepseek.chat_requests()[-1]["headers"].get("authorization")) == "Bearer sk-deepseek-test-123456"
    css(d, 'button[aria-label="Make deepseek-v4-flash the default chat model"]').click()
    wait_for(lambda: any(m["model_name"] == "deepseek-v4-flash" and m["model_type"] == "chat"
                         for m in httpx.get(f"{srv.base_url}/api/v1/models/default", headers={"Authorization": f"Bearer {new_key}"}).json()["data"]["models"]),
             "the default chat model")
    shot(d, screenshots, "12-models")
    extractive = next(r for r in all_css(d, "table[aria-label=Models] tbody tr") if r.text.startswith("extractive"))
    assert "default chat" not in extractive.text  # the tenant's own default replaced the built-in one
    assert "used only by chats that name it" in extractive.text
    assert "sk-deepseek-test-123456" not in d.page_source  # a provider key is never shown back
    button(d, "Log out").click()
    labelled(d, "API key")


def test_register_lands_on_own_datasets(browser: Any, console_server: ConsoleServer, screenshots: Path) -> None:
    """Logged out from a chat of one tenant, a new account starts at its own (empty) datasets, not at that chat."""
    d, srv = browser, console_server
    chat = srv.api("POST", "/chats", json={"name": "someone else's chat"})["data"]
    login_with_key(d, srv.base_url, srv.key)
    d.get(f"{srv.base_url}/console/#/chats/{chat['id']}")
    on_page(d, "someone else's chat")
    button(d, "Log out").click()
    labelled(d, "Email").send_keys("grace@example.com")
    labelled(d, "Password").send_keys("an0ther-pass")
    css(d, "details summary").click()
    labelled(d, "Nickname").send_keys("grace")
    button(d, "Register with this email and password").click()
    on_page(d, "Datasets")
    assert d.current_url.endswith("/console/#/datasets") and "grace" in css(d, "#who").text
    assert not all_css(d, "main [role=alert]")
    wait_for(lambda: "No datasets yet" in css(d, "main").text, "the new account's empty datasets")
    # the same user logging back in after their session ended keeps the address they were at
    d.get(f"{srv.base_url}/console/#/keys")
    on_page(d, "API keys")
    d.execute_script("localStorage.removeItem('ragflow-console-auth'); location.reload();")
    labelled(d, "Email").send_keys("grace@example.com")
    labelled(d, "Password").send_keys("an0ther-pass")
    button(d, "Log in").click()
    on_page(d, "API keys")
    button(d, "Log out").click()


def test_presigned_upload_failures_and_filters(browser: Any, console_server: ConsoleServer, screenshots: Path,
                                               tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    d, srv = browser, console_server
    d.get(srv.base_url + "/console/")
    d.execute_script("localStorage.clear(); localStorage.setItem('ragflow-console.presigned-over', '100');")
    d.refresh()
    labelled(d, "API key").send_keys(srv.key)
    button(d, "Log in with key").click()
    labelled(d, "New dataset name").send_keys("big files")
    button(d, "Create dataset").click()
    wait_for(lambda: heading(d) == "big files", "the new dataset's page")
    big = tmp_path / "lakes.txt"
    big.write_text("Lake Baikal is the deepest lake in the world.\n\n" * 20)  # over the lowered threshold
    small = tmp_path / "tiny.txt"
    small.write_text("Tiny.")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    css(d, "input[type=file]").send_keys(f"{big}\n{small}\n{broken}")
    wait_for(lambda: sorted(c.get_attribute("data-run") for c in all_css(d, "td[data-run]")) == ["DONE", "DONE", "FAIL"],
             "two documents DONE, one FAIL")
    reason = css(d, 'td[data-run="FAIL"] .msg.fail').text  # a failure shows its reason
    dataset_id = re.search(r"#/datasets/([0-9a-f]{32})", d.current_url)[1]  # type: ignore[index]
    [failed] = srv.api("GET", f"/datasets/{dataset_id}/documents", params={"run": "FAIL"})["data"]["docs"]
    assert reason and reason in failed["progress_msg"]
    # each run as a percentage; the whole log in a popover at the row
    assert [p.text for p in all_css(d, 'td[data-run="DONE"] .pct')] == ["100%", "100%"]
    assert re.fullmatch(r"\d+%", css(d, 'td[data-run="FAIL"] .pct').text)
    css(d, 'button[aria-label="Log of broken.pdf"]').click()
    log = css(d, "[data-floating] pre.log-text").text
    assert log == failed["progress_msg"].strip()
    shot(d, screenshots, "15-documents-failed")
    d.find_element("css selector", "body").click()
    wait_for(lambda: not all_css(d, "[data-floating]"), "the log closed by a click elsewhere")
    # select-all ticks the page's rows, and one unticked leaves it mixed
    css(d, 'input[aria-label="Select all on this page"]').click()
    assert all(b.is_selected() for b in all_css(d, "tr[data-doc] input[type=checkbox]"))
    all_css(d, "tr[data-doc] input[type=checkbox]")[0].click()
    assert d.execute_script("return document.querySelector('input[aria-label=\"Select all on this page\"]').indeterminate")
    # the status filter is the API's own
    Select(labelled(d, "Status")).select_by_visible_text("FAIL")
    wait_for(lambda: [r.text.split()[0] for r in all_css(d, "tr[data-doc]")] == ["broken.pdf"], "only the failed document")
    puts = [p for m, p, status in srv.requests() if m == "PUT" and p.startswith("/api/v1/uploads/") and status == 200]
    assert len(puts) == 1  # the large one went to the upload URL, the small one through the multipart route
    docs = srv.api("GET", f"/datasets/{dataset_id}/documents", params={"run": "DONE"})["data"]["docs"]
    assert {doc["name"]: doc["size"] for doc in docs} == {"lakes.txt": big.stat().st_size, "tiny.txt": 5}
    d.execute_script("localStorage.removeItem('ragflow-console.presigned-over');")


def test_phone_width(browser: Any, console_server: ConsoleServer, screenshots: Path) -> None:
    d, srv = browser, console_server
    d.get(srv.base_url + "/console/")
    d.execute_script("localStorage.clear(); location.reload();")
    labelled(d, "API key").send_keys(srv.key)
    button(d, "Log in with key").click()
    wait_for(lambda: heading(d) == "Datasets", "the datasets page")
    d.set_window_size(390, 844)
    try:
        d.get(srv.base_url + "/console/#/datasets")
        d.refresh()
        wait_for(lambda: heading(d) == "Datasets", "the datasets page")
        width = d.execute_script("return document.documentElement.clientWidth")
        assert d.execute_script("return document.documentElement.scrollWidth") <= width + 1  # nothing scrolls sideways
        shot(d, screenshots, "13-datasets-phone")
        # keyboard only: a page puts focus on its content; Tab reaches the first field, Enter submits its form
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        assert d.switch_to.active_element.get_attribute("id") == "main"
        ActionChains(d).send_keys(Keys.TAB).perform()
        assert d.switch_to.active_element.get_attribute("id") == labelled(d, "New dataset name").get_attribute("id")
        ActionChains(d).send_keys("from the keyboard", Keys.ENTER).perform()
        wait_for(lambda: heading(d) == "from the keyboard", "the dataset made from the keyboard")
        shot(d, screenshots, "14-dataset-phone")
    finally:
        d.set_window_size(1366, 900)


def test_every_console_request_is_public_api(console_server: ConsoleServer, browser: Any) -> None:
    """Runs last in this module: every request the browser made above is a console file or a public /api/v1 route
    (the test's own checks call /api/v1 too: they cannot hide a stray call)."""
    only_public_api(console_server)
