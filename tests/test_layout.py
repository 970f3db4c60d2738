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
