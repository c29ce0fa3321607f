"""axe-core on every page the browser tests visit: no serious or critical violation may reach a user.

The shared `new_context` fixture (tests/conftest.py) watches each browser context: axe-core, vendored from npm in
tests/browser_assets/ (test-only, never served), is loaded into every page before the page's own scripts, and each
time a page has loaded, axe runs on it. The test's teardown lists what it found, page by page.

A page the test leaves before axe has finished (a click that navigates at once) is not checked; the next page is.
"""

from pathlib import Path

from playwright.sync_api import Error

AXE = Path(__file__).parent / "browser_assets" / "axe.min.js"
IMPACTS = ("serious", "critical")

RUN = """async (impacts) => {
    if (!window.axe) return null;
    const results = await window.axe.run(document, {resultTypes: ["violations"]});
    return results.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
}"""


def serious_violations(page):
    """axe-core's serious and critical violations on the page as it is now (None if axe is not loaded in it)."""
    return page.evaluate(RUN, list(IMPACTS))


class Audit:
    def __init__(self):
        self.violations = []  # (url, violation)
        self.checked = []  # urls

    def watch(self, context):
        context.add_init_script(path=AXE)
        context.on("page", self._watch_page)
        for page in context.pages:
            self._watch_page(page)

    def _watch_page(self, page):
        page.on("load", lambda: self.check(page))

    def check(self, page):
        if page.is_closed() or not page.url.startswith("http"):
            return
        url = page.url
        try:
            found = serious_violations(page)
        except Error:
            return  # the page navigated or closed while axe ran: the page it went to is checked on its own load
        if found is None:
            return
        self.checked.append(url)
        self.violations += [(url, violation) for violation in found]

    def report(self):
        lines = [f"{len(self.violations)} serious or critical accessibility violations (axe-core):"]
        for url, violation in self.violations:
            lines.append(f"- {url}: {violation['impact']} {violation['id']} ({violation['help']}) at "
                         + "; ".join(violation["nodes"]))
        return "\n".join(lines)
