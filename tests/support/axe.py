"""axe-core in a Playwright page: what WCAG 2.2 AA rules a page breaks, said so a person can fix it.

axe-core is pinned in tests/a11y/package-lock.json; scripts/setup installs it with
`npm ci --prefix tests/a11y`. Pages with a Content-Security-Policy that forbids inline scripts
need a context made with `bypass_csp=True` (the proxy's pages, the service's); an extension's
page refuses injected tags, so there the script is evaluated through the DevTools protocol.
"""

import os
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
MISSING = (
    f"axe-core is not installed ({AXE} is missing): run "
    "`npm ci --prefix tests/a11y --no-audit --no-fund` (scripts/setup does it)"
)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async ([tags, which]) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    return result[which].map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
            target: n.target.map(String).join(' '),
            html: n.html,
            summary: n.failureSummary,
        })),
    }));
}"""


def have_axe() -> bool:
    return AXE.is_file()


def _inject(page: Any) -> None:
    if page.evaluate("typeof window.axe !== 'undefined'"):
        return
    if page.url.startswith("chrome-extension://"):
        # An extension page's own CSP refuses script tags; the protocol's evaluate is not a tag.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    else:
        page.add_script_tag(path=str(AXE))


def violations(page: Any, which: str = "violations") -> list[dict[str, Any]]:
    """The page's WCAG 2.0/2.1/2.2 A and AA violations as axe-core reports them (or, with
    which="incomplete", what axe could not decide and a person should look at)."""
    if not have_axe():
        raise AssertionError(MISSING)
    _inject(page)
    return list(page.evaluate(_RUN, [TAGS, which]))


def describe(found: list[dict[str, Any]], where: str = "") -> str:
    """The violations as lines to read in an assertion message: rule, impact, what to do, where."""
    if not found:
        return f"{where}: no violations" if where else "no violations"
    lines = [f"{len(found)} WCAG violation(s){' on ' + where if where else ''}:"]
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:8]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            summary = " ".join((node.get("summary") or "").split())
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    """Fail with what to fix if axe-core finds any WCAG 2.2 AA violation on the page."""
    if os.environ.get("CLAUSEWARDEN_A11Y_REVIEW"):  # print what axe asks a person to look at
        review = violations(page, "incomplete")
        if review:
            print("\nTO REVIEW " + describe(review, where or page.url))
    found = violations(page)
    assert not found, describe(found, where or page.url)
