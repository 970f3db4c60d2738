"""How the simulated shop writes its documents: the real shop's XML and JSON, to the byte layout.

The layout of each resource (field order, xlink:href, translations,
associations) comes from shop_schema.json, extracted from the captures.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from tui_connector.prestashop.codec import Translated

SCHEMA_FILE = Path(__file__).with_name("shop_schema.json")
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
XML_TAIL = "</prestashop>\n"


@lru_cache(maxsize=1)
def layout() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def resource_layout(resource: str) -> dict:
    known = layout()["resources"].get(resource)
    if known:
        return known
    element = resource[:-3] + "y" if resource.endswith("ies") else resource.rstrip("s")
    return {"element": element, "fields": [["id", {}]], "associations": []}


def field_names(resource: str) -> list[str]:
    return [name for name, _ in resource_layout(resource)["fields"]]


def attributes_of(spec: dict, name: str) -> dict:
    return spec.get("synopsis", {}).get(name, {})


def cdata(value: Any) -> str:
    text = "" if value is None else str(value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


class Writer:
    """Renders records of one shop (its base URL goes into every xlink:href)."""

    def __init__(self, base_url: str, languages: list[int]):
        self.api = base_url.rstrip("/") + "/api/"
        self.languages = languages

    # --- XML ----------------------------------------------------------------------

    def _href(self, template: str, value: str, record: dict) -> str:
        if not template or value in ("", "0"):
            return ""
        return self.api + template.replace("{id}", str(record.get("id", ""))).replace("{}", value)

    def _xml_field(self, name: str, info: dict, value: Any, record: dict, indent: str) -> str:
        if info.get("translatable") or isinstance(value, Translated):
            value = value if isinstance(value, Translated) else Translated({1: str(value or "")})
            parts = "".join(
                f'<language id="{lang}" xlink:href="{self.api}languages/{lang}">{cdata(text)}'
                "</language>"
                for lang, text in sorted(value.items())
            )
            return f"{indent}<{name}>{parts}</{name}>\n"
        text = "" if value is None else str(value)
        attrs = ""
        href = self._href(info.get("href", ""), text, record)
        if href:
            attrs += f' xlink:href="{_attr(href)}"'
        if info.get("not_filterable"):
            attrs += ' notFilterable="true"'
        return f"{indent}<{name}{attrs}>{cdata(text)}</{name}>\n"

    def xml_record(self, resource: str, record: dict, fields: list[str] | None = None) -> str:
        spec = resource_layout(resource)
        element = spec["element"]
        wanted = set(fields) if fields else None
        out = [f"<{element}>\n"]
        for name, info in spec["fields"]:
            if wanted is not None and name not in wanted:
                continue
            out.append(self._xml_field(name, info, record.get(name, ""), record, "\t"))
        if wanted is None and spec["associations"]:
            out.append("<associations>\n")
            associations = record.get("associations", {})
            for name, assoc in spec["associations"]:
                items = associations.get(name, [])
                attrs = f'nodeType="{assoc["node_type"]}"'
                attrs += (
                    ' virtualEntity="true"' if assoc.get("virtual") else f' api="{assoc["api"]}"'
                )
                if not items:
                    out.append(f"<{name} {attrs}/>\n")
                    continue
                out.append(f"<{name} {attrs}>\n")
                for item in items:
                    href = self._href(assoc.get("href", ""), str(item.get("id", "")), record)
                    open_tag = (
                        f'<{assoc["item"]} xlink:href="{href}">' if href else f"<{assoc['item']}>"
                    )
                    out.append(f"\t{open_tag}\n")
                    for key in assoc["fields"]:
                        out.append(f"\t<{key}>{cdata(item.get(key, ''))}</{key}>\n")
                    out.append(f"\t</{assoc['item']}>\n")
                out.append(f"</{name}>\n")
            out.append("</associations>\n")
        out.append(f"</{element}>\n")
        return "".join(out)

    def xml_one(self, resource: str, record: dict, extra: dict | None = None) -> bytes:
        body = self.xml_record(resource, record)
        if extra:  # computed fields (price[...] parameters) come after the record's own
            closing = body.rindex("</")
            body = (
                body[:closing]
                + "".join(f"\t<{name}>{cdata(value)}</{name}>\n" for name, value in extra.items())
                + body[closing:]
            )
        return (XML_HEAD + body + XML_TAIL).encode("utf-8", "surrogateescape")

    def xml_list(self, resource: str, records: list[dict], display) -> bytes:
        spec = resource_layout(resource)
        element, container = spec["element"], spec.get("container", resource)
        out = [XML_HEAD, f"<{container}>\n"]
        for record in records:
            if display is None:  # order_slip's hrefs name <order_slips>, as the real shop's do
                rid = record["id"]
                out.append(f'<{element} id="{rid}" xlink:href="{self.api}{container}/{rid}"/>\n')
            else:
                out.append(
                    self.xml_record(resource, record, None if display == "full" else display)
                )
        out.append(f"</{container}>\n")
        out.append(XML_TAIL)
        return "".join(out).encode("utf-8", "surrogateescape")

    def xml_errors(self, errors: list[tuple[int, str]]) -> bytes:
        body = "".join(
            f"<error>\n<code>{cdata(code)}</code>\n<message>{cdata(message)}</message>\n</error>\n"
            for code, message in errors
        )
        return (XML_HEAD + "<errors>\n" + body + "</errors>\n" + XML_TAIL).encode(
            "utf-8", "surrogateescape"
        )

    def xml_schema(self, resource: str, synopsis: bool) -> bytes:
        spec = resource_layout(resource)
        attributes = spec.get("synopsis", {}) if synopsis else {}
        out = [XML_HEAD, f"<{spec['element']}>\n"]
        for name, info in spec["fields"]:
            if name == "id" and synopsis:  # the blank schema has an empty id, the synopsis none
                continue
            if not synopsis and name not in spec.get("blank_fields", [name]):
                continue  # a blank schema leaves out what cannot or need not be written
            attrs = "".join(f' {k}="{_attr(str(v))}"' for k, v in attributes.get(name, {}).items())
            if info.get("not_filterable"):
                attrs += ' notFilterable="true"'
            if info.get("translatable"):
                languages = "".join(
                    f'<language id="{lang}" xlink:href="{self.api}languages/{lang}"'
                    f' format="isUnsignedId" >{cdata("")}</language>'
                    for lang in self.languages
                )
                out.append(f"\t<{name}{attrs}>{languages}</{name}>\n")
            else:
                out.append(f"\t<{name}{attrs}>{cdata('')}</{name}>\n")
        if spec["associations"]:
            out.append("<associations>\n")
            for name, assoc in spec["associations"]:
                out.append(f"<{name}>\n\t<{assoc['item']}>\n")
                for key in assoc["fields"]:
                    required = ' required="true"' if synopsis and key == "id" else ""
                    out.append(f"\t<{key}{required}>{cdata('')}</{key}>\n")
                out.append(f"\t</{assoc['item']}>\n</{name}>\n")
            out.append("</associations>\n")
        out.append(f"</{spec['element']}>\n" + XML_TAIL)
        return "".join(out).encode("utf-8", "surrogateescape")

    def xml_root(
        self,
        permissions: dict[str, set[str]],
        shop_name: str = "Webservice",
        entries: list[dict] | None = None,
    ) -> bytes:
        out = [XML_HEAD, f'<api shopName="{_attr(shop_name)}">\n']
        for entry in entries if entries is not None else layout()["root"]:
            name = entry["name"]
            allowed = permissions.get(name, set())
            flags = " ".join(
                f'{m}="{"true" if m in allowed else "false"}"'
                for m in ("get", "put", "post", "patch", "delete", "head")
            )
            out.append(f'<{name} xlink:href="{self.api}{name}" {flags}>\n')
            out.append(
                f'<description xlink:href="{self.api}{name}" {flags}>\n'
                f"{entry['description']}</description>\n"
            )
            if entry["schemas"]:
                out.append(f'<schema xlink:href="{self.api}{name}?schema=blank" type="blank"/>\n')
                out.append(
                    f'<schema xlink:href="{self.api}{name}?schema=synopsis" type="synopsis"/>\n'
                )
            out.append(f"</{name}>\n")
        out.append("</api>\n" + XML_TAIL)
        return "".join(out).encode("utf-8", "surrogateescape")

    # --- JSON ---------------------------------------------------------------------

    @staticmethod
    def _json_scalar(name: str, value: Any) -> Any:
        text = "" if value is None else str(value)
        if (name == "id" or name.startswith("id_")) and text.isdigit():
            return int(text)
        return text

    def json_record(
        self,
        resource: str,
        record: dict,
        fields=None,
        *,
        compact: bool = False,
        language: int | None = None,
    ) -> dict:
        spec = resource_layout(resource)
        wanted = set(fields) if fields else None
        out: dict[str, Any] = {}
        for name, info in spec["fields"]:
            if wanted is not None and name not in wanted:
                continue
            value = record.get(name, "")
            if info.get("translatable") or isinstance(value, Translated):
                value = value if isinstance(value, Translated) else Translated({1: str(value)})
                if language is not None:
                    out[name] = value.text(language)
                else:
                    out[name] = [
                        {"id": lang, "value": text} for lang, text in sorted(value.items())
                    ]
                continue
            scalar = self._json_scalar(name, value)
            if compact and scalar in ("", 0, "0"):  # single GETs leave out empty and zero
                continue
            out[name] = scalar
        if wanted is None:
            associations = {
                name: [
                    {k: self._json_scalar(k, item.get(k, "")) for k in assoc["fields"]}
                    for item in record.get("associations", {}).get(name, [])
                ]
                for name, assoc in spec["associations"]
            }
            associations = {k: v for k, v in associations.items() if v}
            if associations:
                out["associations"] = associations
        return out

    def json_one(self, resource: str, record: dict, language=None, extra=None) -> bytes:
        element = resource_layout(resource)["element"]
        document = {
            element: self.json_record(resource, record, compact=True, language=language)
            | (extra or {})
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogateescape"
        )

    def json_list(self, resource: str, records: list[dict], display, language=None) -> bytes:
        if not records:
            return b"[]"
        if display is None:
            items = [{"id": int(r["id"])} for r in records]
        else:
            fields = None if display == "full" else display
            items = [self.json_record(resource, r, fields, language=language) for r in records]
        container = resource_layout(resource).get("container", resource)
        return json.dumps({container: items}, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogateescape"
        )

    @staticmethod
    def json_errors(errors: list[tuple[int, str]]) -> bytes:
        return json.dumps({"errors": [{"code": c, "message": m} for c, m in errors]}).encode()
