"""Where the real shops' answers live in the repository, and how to list them.

The captures are data (tests/fixtures/prestashop/README.md says what each set is);
every test and the simulator's schema read them from here, never from beside the clone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prestashop"
CAPTURES = FIXTURES / "8.1.2"  # the first set: catalogue, customers, errors, writes
ORDERS = FIXTURES / "8.1.2-orders"  # 51 orders made by PrestaShop's own code, with truth/
V9 = FIXTURES / "9.0.0"  # the same Webservice on PrestaShop 9
TRUTH = ORDERS / "truth"
SETS = {"8.1.2": CAPTURES, "8.1.2-orders": ORDERS, "9.0.0": V9}


def truth(name: str):
    """A truth file: what the shop's own database records (values as MariaDB prints them)."""
    return json.loads((TRUTH / f"{name}.json").read_text(encoding="utf-8"))


def index_rows(folder: Path) -> list[dict]:
    """One row per captured body: name, method, path, status, content type, file, json.

    A set with an INDEX.tsv is read from it; the 9.0.0 set has none, so its rows come
    from its bodies and their .headers files (status line and Content-Type)."""
    if (folder / "INDEX.tsv").exists():
        with (folder / "INDEX.tsv").open(encoding="utf-8") as handle:
            listed = list(csv.DictReader(handle, delimiter="\t"))
    else:
        bodies = sorted([*folder.glob("*.xml"), *folder.glob("*.json")])
        listed = [_row_from_headers(path) for path in bodies]
    result, seen = [], set()
    for row in listed:
        json_format = "json" in row["content_type"]
        path = folder / f"{row['name']}.{'json' if json_format else 'xml'}"
        if not path.exists() or (row["name"], json_format) in seen:
            continue
        seen.add((row["name"], json_format))
        result.append({**row, "file": path, "json": json_format, "set": folder.name})
    return result


def _row_from_headers(body: Path) -> dict:
    """A 9.0.0 body's row: its status and type from its .headers file (a schema has none)."""
    headers = body.with_name(body.name + ".headers")
    lines = headers.read_text(encoding="utf-8").splitlines() if headers.exists() else []
    status = lines[0].split()[1] if lines else "200"
    named = [line.split(":", 1) for line in lines if ":" in line]
    types = [value.strip() for key, value in named if key.lower() == "content-type"]
    content_type = types[0] if types else f"text/{body.suffix[1:]}"
    if body.suffix == ".json":
        content_type = "application/json"
    return {
        "name": body.stem,
        "method": "GET",
        "path": _path_guess(body.stem),
        "status": status,
        "content_type": content_type,
    }


def _path_guess(name: str) -> str:
    """The request a 9.0.0 capture answered, as far as the kind of answer goes."""
    if name.startswith("api_root"):
        return "/api/"
    if "_schema_" in name:
        return f"/api/{name.split('_schema_')[0]}?schema=blank"
    if name.endswith("_1"):
        return f"/api/{name.removesuffix('_1')}/1"
    return f"/api/{name}?display=full"


def shop_from_captures(folder: Path = ORDERS):
    """A simulated shop holding exactly the records a real shop answered (its
    `display=full` lists in JSON), so that a flow meets the real shop's data."""
    from tui_connector.prestashop import codec
    from tui_connector.simulator.server import ShopData

    tables: dict[str, dict[int, dict]] = {}
    lists = {
        path.name.removesuffix("_full.json"): path
        for path in folder.glob("*_full*.json")
        if path.name.removesuffix("_full.json").isidentifier()  # not products_limit_0_5
        and "_limit_" not in path.name
    }
    if (folder / "configurations_filtered.json").exists():
        lists["configurations"] = folder / "configurations_filtered.json"
    for resource, path in sorted(lists.items()):
        records = codec.decode_list(path.read_bytes(), json_format=True)
        tables[resource] = {int(record["id"]): record for record in records if "id" in record}
    return ShopData(tables)
