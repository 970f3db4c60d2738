"""Extract the wire layout of every resource from the real shop's captures.

Run from a checkout (the captures are test fixtures, tests/fixtures/prestashop/):
    python -m tui_connector.simulator.build_schema [FOLDER ...]
It writes shop_schema.json next to this file: for each resource, its
element name, the order of its fields, which are translatable, which
carry an xlink:href (and to what), the attributes of its synopsis, and its
associations. The simulator serves its documents from that layout, so
they have the structure the real shop gives.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import xmltodict

HERE = Path(__file__).resolve().parent
# In a checkout: the repository's own copies of real 8.1.2 shops' answers.
FIXTURES = HERE.parents[1] / "tests" / "fixtures" / "prestashop"
DEFAULT_CAPTURES = [FIXTURES / "8.1.2", FIXTURES / "8.1.2-orders"]
HREF = re.compile(r"https?://[^/]+/api/(.*)")

# Resources the connector uses that the captured shop had no rows of.
EXTRA = {
    "order_cart_rules": {
        "element": "order_cart_rule",
        "fields": [
            ["id", {}],
            ["id_order", {"href": "orders/{}"}],
            ["id_cart_rule", {}],
            ["id_order_invoice", {}],
            ["name", {}],
            ["value", {}],
            ["value_tax_excl", {}],
            ["free_shipping", {}],
            ["deleted", {}],
        ],
        "associations": [],
    },
    "messages": {
        "element": "message",
        "fields": [
            ["id", {}],
            ["id_cart", {"href": "carts/{}"}],
            ["id_order", {"href": "orders/{}"}],
            ["id_customer", {"href": "customers/{}"}],
            ["id_employee", {}],
            ["message", {}],
            ["private", {}],
            ["date_add", {}],
        ],
        "associations": [],
    },
    "order_payments": {
        "element": "order_payment",
        "fields": [
            ["id", {}],
            ["order_reference", {}],
            ["id_currency", {"href": "currencies/{}"}],
            ["amount", {}],
            ["payment_method", {}],
            ["conversion_rate", {}],
            ["transaction_id", {}],
            ["card_number", {}],
            ["card_brand", {}],
            ["card_expiration", {}],
            ["card_holder", {}],
            ["date_add", {}],
        ],
        "associations": [],
    },
    # Not captured; PrestaShop's Configuration class seen through its translated
    # resource: `value` per language (PS_INVOICE_PREFIX lives in ps_configuration_lang).
    "translated_configurations": {
        "element": "translated_configuration",
        "fields": [
            ["id", {}],
            ["value", {"translatable": True}],
            ["name", {}],
            ["id_shop_group", {}],
            ["id_shop", {}],
            ["date_add", {}],
            ["date_upd", {}],
        ],
        "associations": [],
    },
}


def _parse(path: Path):
    return xmltodict.parse(path.read_bytes(), disable_entities=True)["prestashop"]


def _href_template(href: str, value: str) -> str:
    match = HREF.match(href or "")
    if not match:
        return ""
    path = match.group(1)
    if path.startswith("images/products/"):  # the product's id sits in the middle
        return "images/products/{id}/{}"
    if value and path.endswith("/" + value):
        return path[: -len(value)] + "{}"
    return path


def _field_layout(node: dict) -> list:
    fields = []
    for name, value in node.items():
        if name.startswith("@") or name == "associations":
            continue
        info: dict = {}
        if isinstance(value, dict):
            if "language" in value:
                info["translatable"] = True
            text = value.get("#text", "")
            href = value.get("@xlink:href")
            if href:
                info["href"] = _href_template(href, text)
            if value.get("@notFilterable") == "true":
                info["not_filterable"] = True
        fields.append([name, info])
    return fields


def _associations(node: dict) -> list:
    result = []
    for name, group in (node.get("associations") or {}).items():
        if name.startswith("@"):
            continue
        group = group or {}
        items = [k for k in group if not k.startswith("@")]
        item_name = items[0] if items else group.get("@nodeType", "")
        sample = group.get(item_name) if items else None
        if isinstance(sample, list):
            sample = sample[0]
        item_fields, item_href = [], ""
        if isinstance(sample, dict):
            item_href = _href_template(sample.get("@xlink:href", ""), "")
            item_fields = [k for k in sample if not k.startswith("@")]
        result.append(
            [
                name,
                {
                    "item": item_name,
                    "node_type": group.get("@nodeType", item_name),
                    "api": group.get("@api", ""),
                    "virtual": group.get("@virtualEntity") == "true",
                    "fields": item_fields or ["id"],
                    "href": item_href if "{}" in item_href else re.sub(r"\d+$", "{}", item_href),
                },
            ]
        )
    return result


def _synopsis(path: Path) -> dict:
    root = _parse(path)
    ((element, node),) = [(k, v) for k, v in root.items() if not k.startswith("@")]
    attrs = {}
    for name, value in node.items():
        if name == "associations" or name.startswith("@") or not isinstance(value, dict):
            continue
        keep = {
            k[1:]: v
            for k, v in value.items()
            if k in ("@required", "@format", "@maxSize", "@readOnly", "@read_only")
        }
        if keep:
            attrs[name] = keep
    return {
        "element": element,
        "attributes": attrs,
        "fields": _field_layout(node),
        "associations": _associations(node),
    }


def build(folders: list[Path]) -> dict:
    """The layout of every resource the captures show; the root from the first folder.

    A resource comes from the first folder that captured it, unless a later one also
    has its synopsis (what is required, read-only) and the earlier one has not."""
    schema: dict = {"resources": {}, "root": []}
    root = _parse(folders[0] / "api_root.xml")["api"]
    for name, node in root.items():
        if name.startswith("@"):
            continue
        description = node.get("description", {})
        schema["root"].append(
            {
                "name": name,
                "description": (
                    description.get("#text") if isinstance(description, dict) else description
                )
                or "",
                "schemas": bool(node.get("schema")),
            }
        )
    for captures in folders:
        for resource, entry in _resources(captures).items():
            known = schema["resources"].get(resource)
            if known is None or ("synopsis" not in known and "synopsis" in entry):
                schema["resources"][resource] = entry
    for resource, entry in EXTRA.items():
        schema["resources"].setdefault(resource, entry)
    return schema


def _resources(captures: Path) -> dict:
    found = {}
    lists = [*captures.glob("*_full.xml"), *captures.glob("configurations_filtered.xml")]
    for path in sorted(lists):
        resource = path.name.rsplit("_", 1)[0]
        listing = _parse(path)
        # the list's element is the resource's name, except order_slip's: <order_slips>
        container_name = next((k for k in (resource, resource + "s") if k in listing), "")
        container = listing.get(container_name) or {}
        items = [k for k in container if not k.startswith("@")] if container else []
        if not items:
            continue
        element = items[0]
        records = container[element]
        records = records if isinstance(records, list) else [records]
        entry = {
            "element": element,
            "fields": _field_layout(records[0]),
            "associations": _associations(records[0]),
        }
        if container_name != resource:
            entry["container"] = container_name
        blank = captures / f"{resource}_schema_blank.xml"
        if blank.exists():
            entry["blank_fields"] = [name for name, _ in _synopsis(blank)["fields"]]
        synopsis = captures / f"{resource}_schema_synopsis.xml"
        if synopsis.exists():
            described = _synopsis(synopsis)
            entry["synopsis"] = described["attributes"]
            entry["fields"] = _merge_fields(entry["fields"], described["fields"])
            entry["associations"] = _merge_assoc(entry["associations"], described["associations"])
        found[resource] = entry
    return found


def _merge_fields(seen: list, described: list) -> list:
    known = {name: info for name, info in seen}
    for name, info in described:
        known.setdefault(name, info)
    order = [name for name, _ in described if name != "id"]
    return [["id", known.get("id", {})]] + [[name, known[name]] for name in order]


def _merge_assoc(seen: list, described: list) -> list:
    known = dict(seen)
    for name, info in described:
        if name not in known:
            known[name] = info
    return [[name, known[name]] for name, _ in described] + [
        [name, info] for name, info in seen if name not in dict(described)
    ]


def main(argv: list[str]) -> int:
    folders = [Path(arg) for arg in argv] or DEFAULT_CAPTURES
    if not (folders[0] / "api_root.xml").exists():
        print(f"no captures in {folders[0]}: name folders of a shop's answers", file=sys.stderr)
        return 2
    schema = build(folders)
    out = HERE / "shop_schema.json"
    out.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{out}: {len(schema['resources'])} resources, {len(schema['root'])} in the root")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
