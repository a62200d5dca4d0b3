"""axe-core (npm, a devDependency of server/web/vendor) run in the page a test has open.

`assert_accessible` injects ``axe.min.js`` into the current document and checks it against
WCAG 2.0, 2.1 and 2.2 levels A and AA, plus AAA text contrast (``color-contrast-enhanced``,
7:1 as STYLE.md asks for elders). A serious or critical violation fails the test, each one
listed with its rule, axe's help text and the first elements it was found on.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tests.support.live_server import ROOT

AXE_JS = ROOT / "server" / "web" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
EXTRA_RULES = ("color-contrast-enhanced",)
FAILING_IMPACTS = ("serious", "critical")

_RUN = """
var done = arguments[arguments.length - 1];
var options = {
  runOnly: {type: "tag", values: arguments[0]},
  rules: arguments[1],
  resultTypes: ["violations"]
};
window.axe.run(document, options).then(
  function (r) { done(r.violations); },
  function (e) { done("axe failed: " + String(e)); });
"""


@cache
def _source(path: Path = AXE_JS) -> str:
    if not path.exists():
        raise AssertionError(f"{path} is missing: run scripts/setup.sh --test (npm devDeps)")
    return path.read_text("utf-8")


def violations(driver: Any) -> list[dict[str, Any]]:
    """axe's violations on the page open in ``driver`` (every impact)."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(_source())
    driver.set_script_timeout(60)
    rules = {rule: {"enabled": True} for rule in EXTRA_RULES}
    found = driver.execute_async_script(_RUN, list(TAGS), rules)
    if isinstance(found, str):
        raise AssertionError(found)
    return list(found)


def describe(violation: dict[str, Any], targets: int = 3) -> str:
    """One line per violation: impact, rule id, help, the first elements' selectors."""
    nodes = violation.get("nodes", [])
    where = ", ".join(" ".join(map(str, node.get("target", []))) for node in nodes[:targets])
    more = f" (+{len(nodes) - targets} more)" if len(nodes) > targets else ""
    return f"[{violation['impact']}] {violation['id']}: {violation['help']} — {where}{more}"


def assert_accessible(driver: Any, context: str) -> None:
    """Fail listing every serious or critical axe violation of the page open in ``driver``."""
    bad = [v for v in violations(driver) if v.get("impact") in FAILING_IMPACTS]
    if bad:
        lines = "\n  ".join(describe(v) for v in bad)
        raise AssertionError(f"{context}: {len(bad)} accessibility violation(s):\n  {lines}")
