"""What the console's browser tests do to a page: find things as a user does (by label, by button text), wait for
them, and check each page a user sees: every control labelled, text at WCAG AA contrast, and no two things drawn on
top of each other at a laptop's width (1366 px) and a phone's (390 px)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
WAIT_S = 60
WIDE, NARROW = (1366, 900), (390, 844)


def wait_for(check: Callable[[], T], what: str, timeout: float = WAIT_S, driver: Any = None) -> T:
    deadline = time.time() + timeout
    last: Exception | None = None
    while time.time() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # a stale or not-yet-rendered element: look again
            last = exc
        time.sleep(0.1)
    said = driver.execute_script("return document.getElementById('toasts').innerText") if driver else ""
    raise AssertionError(f"timed out waiting for {what} (last error: {last}; the console said: {said!r})")


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(lambda: next(iter(driver.find_elements(By.CSS_SELECTOR, selector)), None), selector, driver=driver)


def click(driver: Any, selector: str) -> None:
    """Clicks the element, retrying while it is still being laid out (not yet interactable) or replaced."""
    wait_for(lambda: css(driver, selector).click() or True, f"a click on {selector}", driver=driver)


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def labelled(driver: Any, text: str) -> Any:
    """The control whose <label> reads `text` (how a screen reader and a user find it)."""
    from selenium.webdriver.common.by import By

    def find() -> Any:
        for label in driver.find_elements(By.TAG_NAME, "label"):
            if label.text.strip().startswith(text) and label.is_displayed():
                return label.find_element(By.CSS_SELECTOR, "input, select, textarea")
        return None

    return wait_for(find, f"the control labelled {text!r}", driver=driver)


def button(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(lambda: next((b for b in driver.find_elements(By.TAG_NAME, "button")
                                  if b.text.strip() == text and b.is_displayed() and b.is_enabled()), None),
                    f"button {text!r}", driver=driver)


def heading(driver: Any) -> str:
    return str(css(driver, "main h1").text)


def on_page(driver: Any, text: str) -> None:
    wait_for(lambda: heading(driver) == text, f"the page {text!r}", driver=driver)


def login_with_key(driver: Any, base_url: str, key: str, fresh: bool = True) -> None:
    """On the datasets page, logged in with `key` (typed into the login form; with fresh=False, a browser already
    logged in with it just opens the page)."""
    driver.get(base_url + "/console/#/datasets")
    if not fresh and driver.execute_script("return (JSON.parse(localStorage.getItem('ragflow-console-auth')) || {}).token") == key:
        on_page(driver, "Datasets")
        return
    driver.execute_script("localStorage.clear(); location.hash = ''; location.reload();")
    labelled(driver, "API key").send_keys(key)
    button(driver, "Log in with key").click()
    on_page(driver, "Datasets")


def unlabelled_controls(driver: Any) -> list[str]:
    """Form controls on the page that have neither a <label> nor an aria-label."""
    return list(driver.execute_script("""
        return [...document.querySelectorAll('main input, main select, main textarea, [data-floating] input, [data-floating] select, [data-floating] textarea')]
          .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
          .map(e => e.outerHTML.slice(0, 120));"""))


LOW_CONTRAST = """
const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const background = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
  if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); } return [255, 255, 255]; };
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length || el.closest('button:disabled, .toasts')) continue;
  const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return bad;"""

# Pairs of things drawn over each other: each line of text (its painted extent, so text running out of its box
# counts) and each control, picture or canvas, cut to what its scrolling or clipping ancestors let show. Things
# nested in each other are not compared; a floating popover (data-floating) and the toasts lie over the page by
# design, so only their own contents are compared with each other.
OVERLAPS = """
const layerOf = (node) => { const el = node.nodeType === 1 ? node : node.parentElement;
  return el.closest('[data-floating]') || el.closest('.toasts') || document.body; };
const visibleArea = (rect, from) => {
  let l = rect.left, t = rect.top, r = rect.right, b = rect.bottom;
  for (let a = from; a && a !== document.documentElement; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX !== 'visible' || s.overflowY !== 'visible' || s.contain.includes('paint')) {
      const c = a.getBoundingClientRect();
      l = Math.max(l, c.left); t = Math.max(t, c.top); r = Math.min(r, c.right); b = Math.min(b, c.bottom);
    }
    if (s.position === 'fixed') break;
  }
  return r - l > 2 && b - t > 2 ? { l, t, r, b } : null;
};
const SHOWN = { contentVisibilityAuto: true, visibilityProperty: true };  // a closed <details> hides, not removes
const boxes = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const range = document.createRange();
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const parent = n.parentElement;
  if (!n.textContent.trim() || parent.closest('script, style, option, select, textarea, .visually-hidden')) continue;
  if (!parent.checkVisibility(SHOWN)) continue;
  range.selectNodeContents(n);
  for (const rect of range.getClientRects()) {
    const area = visibleArea(rect, parent);
    if (area) boxes.push({ node: n, area, what: `"${n.textContent.trim().slice(0, 40)}"` });
  }
}
for (const el of document.querySelectorAll('button, input, select, textarea, img, canvas, svg, progress, iframe')) {
  if (el.closest('.visually-hidden') || el.type === 'hidden' || !el.checkVisibility(SHOWN)) continue;
  if (el.closest('svg') && el.closest('svg') !== el) continue;
  const area = visibleArea(el.getBoundingClientRect(), el.parentElement);
  if (area) boxes.push({ node: el, area, what: `<${el.tagName.toLowerCase()}> ${(el.innerText || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40)}` });
}
const found = [];
for (let i = 0; i < boxes.length; i++) {
  for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.node.contains(b.node) || b.node.contains(a.node) || layerOf(a.node) !== layerOf(b.node)) continue;
    const w = Math.min(a.area.r, b.area.r) - Math.max(a.area.l, b.area.l);
    const h = Math.min(a.area.b, b.area.b) - Math.max(a.area.t, b.area.t);
    if (w > 2 && h > 2) found.push(`${a.what} over ${b.what}`);
  }
}
return found.slice(0, 10);"""


def only_public_api(server: Any, least: int = 20) -> None:
    """Every request the browser made so far is a console file or a public /api/v1 route of the server's OpenAPI
    schema (read from its access log), and none failed with a 5xx."""
    import re

    import httpx

    seen = server.requests()
    schema = httpx.get(f"{server.base_url}/openapi.json").json()
    patterns = [re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$") for path in schema["paths"]]
    api_calls = [(m, p.split("?")[0]) for m, p, _ in seen if p.startswith("/api/")]
    assert len(api_calls) > least
    # "/openapi.json": this check's own read of the schema, when an earlier module ran it against the same server
    other = [p for _, p, _ in seen if not p.startswith(("/api/v1/", "/console/")) and p not in ("/", "/openapi.json")]
    assert other == [], other
    unknown = sorted({p for _, p in api_calls if not any(rx.match(p) for rx in patterns)})
    assert unknown == [], unknown
    assert all(status < 500 for _, _, status in seen)


def overlaps(driver: Any) -> list[str]:
    return list(driver.execute_script(OVERLAPS))


def sideways(driver: Any) -> int:
    """How far the page scrolls sideways (0: it fits its width)."""
    return int(driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def check_layout(driver: Any, name: str) -> None:
    found = overlaps(driver)
    assert not found, f"{name}: things drawn over each other: {found}"
    assert sideways(driver) <= 1, f"{name}: the page scrolls sideways by {sideways(driver)} px"


def shot(driver: Any, folder: Path, name: str, narrow: bool = True) -> None:
    """A screenshot at 1366 px (and 390 px), after the page's basics: every control labelled, all text at WCAG AA
    contrast, nothing drawn over anything else, nothing scrolling sideways."""
    assert not unlabelled_controls(driver), unlabelled_controls(driver)
    low = driver.execute_script(LOW_CONTRAST)
    assert low == [], f"{name}: text below WCAG AA contrast: {low}"
    check_layout(driver, name)
    driver.save_screenshot(str(folder / f"{name}.png"))
    if not narrow:
        return
    driver.set_window_size(*NARROW)
    try:
        wait_for(lambda: driver.execute_script("return document.documentElement.clientWidth") <= NARROW[0], "the narrow window")
        check_layout(driver, f"{name} at {NARROW[0]} px")
        driver.save_screenshot(str(folder / f"{name}-{NARROW[0]}.png"))
    finally:
        driver.set_window_size(*WIDE)
