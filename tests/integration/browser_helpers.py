"""Headless Chromium for the cluster view's tests: load a page, let its scripts run, and
read the rendered DOM back (chromium --headless --dump-dom).

Each look is a fresh page load; --virtual-time-budget lets the page's timers and fetches
run for that much page time before the DOM is dumped. The view keeps its history (the
timeline) on the server, so a fresh load shows everything seen so far.
"""
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_args(profile: str, budget_ms: int):
    # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}"]


def dump_dom(url: str, budget_ms: int = 1500, timeout: float = 60.0) -> "Dom":
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        out = subprocess.run(chromium_args(profile, budget_ms) + ["--dump-dom", url],
                             capture_output=True, timeout=timeout, check=True)
    return Dom(out.stdout.decode())


def screenshot(url: str, path: str, width: int = 1400, height: int = 800, budget_ms: int = 1500):
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run(chromium_args(profile, budget_ms) + [
            "--hide-scrollbars", f"--window-size={width},{height}", f"--screenshot={path}", url],
            capture_output=True, timeout=60, check=True)


class Dom(HTMLParser):
    """The elements of a dumped page as (tag, attrs, text) with attrs a dict; enough to
    find rows and list items by class and read their data- attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.html = html
        self.elements = []
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "input", "br", "img"):
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def by_class(self, cls):
        return [e for e in self.elements if cls in e["attrs"].get("class", "").split()]

    def by_id(self, element_id):
        return next((e for e in self.elements if e["attrs"].get("id") == element_id), None)
