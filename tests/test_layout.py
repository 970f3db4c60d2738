"""The rules of the house, checked: sync/ and gestan/ never import Textual; the UI never
speaks HTTP or SQL itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tui_connector"


def imports_of(folder: str) -> dict[str, set[str]]:
    found = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE))] = names
    return found


@pytest.mark.parametrize("folder", ["sync", "gestan", "prestashop"])
def test_no_textual_below_the_ui(folder):
    for path, names in imports_of(folder).items():
        assert not any(n.split(".")[0] in ("textual", "rich") for n in names), path


def test_the_ui_goes_through_sync():
    forbidden = (
        "httpx",
        "peewee",
        "sqlite3",
        "tui_connector.gestan.models",
        "tui_connector.prestashop.client",
    )
    for path, names in imports_of("ui").items():
        assert not any(n.startswith(forbidden) for n in names), (path, names)


def test_links_are_read_and_written_by_the_binder_only():
    """Every link lookup and write goes through gestan/links.py (the simulator's checks
    aside): a flow that queries the link table itself is a decision in two places."""
    import re

    query = re.compile(r"m\.Link\.(select|get|get_or_none|update|delete|insert|create)\b")
    found = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "simulator" or relative == Path("gestan/links.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if query.search(text) or "join(m.Link" in text or "insert_rows(m.Link" in text:
            found.append(str(relative))
    assert found == []


def test_no_flow_imports_another_flow():
    """A flow that needs another (stock asks the orders' read, an order imports its
    customer) goes through the registry: removing or adding a flow touches its module
    and the registry only."""
    from tui_connector.sync.registry import FLOWS

    modules = {
        spec.flow_class.partition(":")[0]
        if isinstance(spec.flow_class, str)
        else spec.flow_class.__module__
        for spec in FLOWS.values()
    }
    found = imports_of("sync")
    for module in modules:
        path = module.removeprefix("tui_connector.").replace(".", "/") + ".py"
        others = {name for name in found[path] if name in modules - {module}}
        assert not others, (module, others)
