"""The project stands on its own: nothing in it refers to a path outside the repository.

A fresh clone with nothing beside it must pass its tests, so no file of the package,
the tests, bench/ or .ci/run may climb out of the checkout (a `..` that leaves it, a
`Path(__file__)` chain that goes above the root, an absolute path of this machine),
and the notes the code cites must be files of the repository.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UP = "." + "."  # spelled so that this file does not flag itself
SCANNED = ["tui_connector", "tests", "bench"]
SKIPPED = ("fixtures", "__snapshots__", "__pycache__")


def scanned_files() -> list[Path]:
    files = [ROOT / ".ci" / "run", ROOT / "pyproject.toml"]
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if (
                path.is_file()
                and path != Path(__file__).resolve()  # the checker's own samples
                and not set(relative.parts) & set(SKIPPED)
                and path.suffix in (".py", ".md", ".sh", ".toml", ".tcss", ".cfg", ".txt")
            ):
                files.append(path)
    return files


def _levels_up(node: ast.expr, known: dict[str, int]) -> int | None:
    """How many folders above the file itself `node` points, for a `Path(__file__)` chain."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Path":
        if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "__file__":
            return 0
        return None
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in ("resolve", "absolute"):
            return _levels_up(node.func.value, known)
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _levels_up(node.value, known)
        return None if inner is None else inner + 1
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
    ):
        inner = _levels_up(node.value.value, known)
        return None if inner is None else inner + node.slice.value + 1
    return None


def climbs_out_of_the_repository(path: Path) -> list[str]:
    """Each place in a Python file whose `Path(__file__)` chain reaches above the root."""
    depth = len(path.relative_to(ROOT).parts)  # levels_up == depth is the root itself
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            levels = _levels_up(node.value, known)
            if isinstance(target, ast.Name) and levels is not None:
                known[target.id] = levels
    found = []
    for node in ast.walk(tree):
        levels = _levels_up(node, known) if isinstance(node, ast.expr) else None
        if levels is not None and levels > depth:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} goes {levels - depth} above")
    return found


OUTSIDE = [
    re.compile(r"(?<!\.)" + re.escape(UP) + r"[/\\]"),  # ../anything, not an ellipsis
    re.compile(r"[\"']" + re.escape(UP) + r"[\"']"),  # / ".." in a path expression
    re.compile(r"\bshared/prestashop\b"),
    re.compile(r"(?<![\w.])/(work|home|root|Users)/\w"),
]
# `.ci/run` goes from its own folder to the checkout's root: that `..` stays inside.
INSIDE = re.compile(r"\$\(dirname \"\$0\"\)/" + re.escape(UP) + r"\"?\)?")


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_refers_to_a_path_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = INSIDE.sub("", line)
        problems += [f"line {number}: {line.strip()}" for p in OUTSIDE if p.search(line)][:1]
    if path.suffix == ".py":
        problems += climbs_out_of_the_repository(path)
    assert not problems, problems


CITED = re.compile(r"\b([A-Z][A-Z_]+\.md)\b")
# the project's own notes: the root's, docs/ and bench/ (a capture's README is data)
NOTES = {p.name for folder in (ROOT, ROOT / "docs", ROOT / "bench") for p in folder.glob("*.md")}


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_note_the_code_cites_is_in_the_repository(path):
    cited = set(CITED.findall(path.read_text(encoding="utf-8")))
    assert cited <= NOTES, sorted(cited - NOTES)


@pytest.mark.parametrize(
    ("source", "outside"),
    [
        ('HERE = Path(__file__).resolve().parent\nX = HERE.parents[1] / "data"\n', False),
        ('X = Path(__file__).resolve().parents[2] / "tests"\n', False),
        ('X = Path(__file__).resolve().parents[3] / "shared"\n', True),
        ('HERE = Path(__file__).parent\nX = HERE.parent.parent.parent / "y"\n', True),
    ],
)
def test_the_climb_check_can_fail(monkeypatch, source, outside):
    """The checker itself: a module two folders deep may reach the root, not above it."""
    module = ROOT / "tui_connector" / "simulator" / "probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert bool(climbs_out_of_the_repository(module)) is outside


@pytest.mark.parametrize(
    ("line", "outside"),
    [
        (f'CAPTURES = ROOT / "{UP}" / "shared"', True),
        (f"python -m x {UP}/shared/prestashop/captures", True),
        ('<product id="1" .../>', False),
        ("open('/work/shared/DESIGN.md')", True),
        (f'cd "$(dirname "$0")/{UP}"', False),
        ('FIXTURES = ROOT / "tests" / "fixtures"', False),
    ],
)
def test_the_line_check_can_fail(line, outside):
    assert any(p.search(INSIDE.sub("", line)) for p in OUTSIDE) is outside
