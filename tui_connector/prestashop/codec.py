"""The one codec between the Webservice's XML or JSON and plain Python values.

Both formats give the same shapes:
- a record is a dict; scalar values are str ("" for empty or null; the
  shop's `0000-00-00` dates are read as "");
- a translatable field is a `Translated` ({language id: text}), whichever
  way the shop wrote it;
- `associations` is {name: [dict, ...]}: a list always, one item or many;
- a list response is a list of records, empty or not.
Writing goes the other way, to the XML document the shop accepts.
Every failure is a `CodecError` naming what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

from tui_connector.prestashop.errors import CodecError

XLINK = "http://www.w3.org/1999/xlink"
EMPTY_DATES = {"0000-00-00", "0000-00-00 00:00:00"}

Record = dict[str, Any]


class Translated(dict[int, str]):
    """A translatable field: {language id: text}. `text()` picks one."""

    def text(self, language: int | None = None) -> str:
        if language is not None and language in self:
            return self[language]
        if 0 in self:  # the JSON of a one-language shop gives no id
            return self[0]
        return next(iter(self.values()), "")


def text(value: Any, language: int | None = None) -> str:
    """A field as text in one language, whether it is translatable or not."""
    if isinstance(value, Translated):
        return value.text(language)
    return "" if value is None else str(value)


# --- reading -------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # as PHP prints them: true "1", false ""
        return "1" if value else ""
    value = str(value)
    if "\r\n" in value:  # an XML parser reads CR LF as LF: JSON text follows suit
        value = value.replace("\r\n", "\n")
    return "" if value in EMPTY_DATES else value


def parse_xml(body: bytes | str) -> dict:
    """XML to nested dicts, with entity expansion off (no billion laughs, no XXE)."""
    if isinstance(body, bytes) and not body.strip():
        raise CodecError("la boutique a envoyé une réponse vide là où du XML était attendu")
    try:
        # Whitespace is kept: a city may really be "Paris " in the shop.
        return xmltodict.parse(body, disable_entities=True, strip_whitespace=False)
    except ExpatError as exc:
        raise CodecError(f"la boutique a envoyé du XML mal formé ({exc})") from None
    except ValueError as exc:  # entities refused, bad encoding
        raise CodecError(
            f"la boutique a envoyé du XML qui ne peut être lu sans risque ({exc})"
        ) from None


BAD_BYTES = "\ufffd"  # what stands for bytes that are not UTF-8 (the record says so)


def _text_of(body: bytes | str) -> str | bytes:
    """A body as text; bytes that are not UTF-8 (one bad record in a page) become
    U+FFFD, so the page is read and that record alone is refused by its flow."""
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode("utf-8", errors="replace")
    return body


def parse_json(body: bytes | str) -> Any:
    try:
        return json.loads(_text_of(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError(f"la boutique a envoyé du JSON mal formé ({exc})") from None


def _xml_value(node: Any) -> Any:
    """One XML field: a scalar (attributes dropped), a translation, or nested fields."""
    if node is None or isinstance(node, str):
        return _scalar(node)
    if isinstance(node, list):  # a field given twice: keep the last, as PHP does
        return _xml_value(node[-1])
    if not isinstance(node, dict):
        raise CodecError(f"nœud XML inattendu {type(node).__name__}")
    children = {k: v for k, v in node.items() if not k.startswith(("@", "#"))}
    if not children:
        return _scalar(node.get("#text"))
    if set(children) == {"language"}:
        languages = children["language"]
        languages = languages if isinstance(languages, list) else [languages]
        result = Translated()
        for language in languages:
            if isinstance(language, dict):
                language_id = _language_id(language.get("@id"))
                result[language_id] = _scalar(language.get("#text"))
            else:
                result[0] = _scalar(language)
        return result
    return {key: _xml_value(value) for key, value in children.items()}


def _language_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CodecError(f"un id de langue qui n'est pas un nombre: {value!r}") from None


def _xml_associations(node: Any) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    if not isinstance(node, dict):
        return result
    for name, group in node.items():
        if name.startswith(("@", "#")):
            continue
        items: list = []
        if isinstance(group, dict):
            for key, value in group.items():
                if key.startswith(("@", "#")):
                    continue
                items.extend(value if isinstance(value, list) else [value])
        if items:  # JSON leaves empty associations out: so do we
            result[name] = [_association_item(item) for item in items]
    return result


def _association_item(item: Any) -> dict:
    if isinstance(item, dict):
        fields = {k: v for k, v in item.items() if not k.startswith(("@", "#"))}
        if not fields and "@id" in item:  # <product id="3"/> style
            return {"id": _scalar(item["@id"])}
        return {key: _xml_value(value) for key, value in fields.items()}
    return {"id": _scalar(item)}


def _xml_record(node: Any) -> Record:
    if node is None or (isinstance(node, str) and not node.strip()):
        return {}
    if not isinstance(node, dict):
        raise CodecError(
            "un enregistrement était attendu dans le XML de la boutique, c'est du texte"
        )
    record: Record = {}
    for key, value in node.items():
        if key.startswith(("@", "#")):
            if key == "@id":  # a list without display: <product id="1" .../>
                record["id"] = _scalar(value)
            continue
        if key == "#text":
            continue
        if key == "associations":
            record["associations"] = _xml_associations(value)
        else:
            record[key] = _xml_value(value)
    return record


def _json_value(value: Any) -> Any:
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and set(v) == {"id", "value"} for v in value)
    ):
        result = Translated()
        for item in value:
            result[_language_id(item["id"])] = _scalar(item["value"])
        return result
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return _scalar(value)


def _json_record(node: Any) -> Record:
    if isinstance(node, list) and not node:  # schema of a record with no fields
        return {}
    if not isinstance(node, dict):
        raise CodecError("un enregistrement était attendu dans le JSON de la boutique")
    record: Record = {}
    for key, value in node.items():
        if key == "associations":
            groups = (
                {k: v for k, v in (value or {}).items() if v} if isinstance(value, dict) else {}
            )
            record["associations"] = {
                name: [
                    {k: _json_value(v) for k, v in item.items()}
                    if isinstance(item, dict)
                    else {"id": _scalar(item)}
                    for item in (items if isinstance(items, list) else [items])
                ]
                for name, items in groups.items()
            }
        else:
            record[key] = _json_value(value)
    return record


def _root(document: Any) -> dict:
    if not isinstance(document, dict) or "prestashop" not in document:
        raise CodecError(
            "le document n'est pas une réponse du Webservice PrestaShop (pas de <prestashop>)"
        )
    root = document["prestashop"]
    if root is None or (isinstance(root, str) and not root.strip()):
        return {}
    if not isinstance(root, dict):
        raise CodecError("l'élément <prestashop> contient du texte, pas des enregistrements")
    return {k: v for k, v in root.items() if not k.startswith(("@", "#"))}


def decode_list(body: bytes | str, *, json_format: bool = False) -> list[Record]:
    """A list answer (`GET /api/products...`) as a list of records."""
    if json_format:
        document = parse_json(body)
        if document == [] or document == {}:
            return []
        if not isinstance(document, dict) or len(document) != 1:
            raise CodecError("une seule liste était attendue dans le JSON de la boutique")
        (items,) = document.values()
        if items == [] or items is None:
            return []
        if isinstance(items, dict):  # a single record where a list was expected
            items = [items]
        return [_json_record(item) for item in items]
    root = _root(parse_xml(body))
    if not root:
        return []
    if len(root) != 1:
        raise CodecError(
            f"une seule liste était attendue dans le XML de la boutique, trouvé {sorted(root)}"
        )
    (container,) = root.values()
    if container is None or (isinstance(container, str) and not container.strip()):
        return []
    if not isinstance(container, dict):
        raise CodecError("des enregistrements étaient attendus dans la liste, c'est du texte")
    items: list = []
    for key, value in container.items():
        if key.startswith(("@", "#")):
            continue
        items.extend(value if isinstance(value, list) else [value])
    return [_xml_record(item) for item in items]


def decode_one(body: bytes | str, *, json_format: bool = False) -> Record:
    """A single-record answer (`GET /api/products/1`, a POST or PUT reply)."""
    if json_format:
        document = parse_json(body)
        if not isinstance(document, dict) or len(document) != 1:
            raise CodecError("un seul enregistrement était attendu dans le JSON de la boutique")
        (node,) = document.values()
        return _json_record(node)
    root = _root(parse_xml(body))
    if len(root) != 1:
        raise CodecError(
            f"un seul enregistrement était attendu dans le XML de la boutique, trouvé "
            f"{sorted(root) or 'aucun'}"
        )
    (node,) = root.values()
    return _xml_record(node)


@dataclass(frozen=True)
class ShopError:
    code: int
    message: str


def decode_errors(body: bytes | str) -> list[ShopError]:
    """The shop's `<errors>` (or JSON `errors`); [] when the body holds none."""
    stripped = body.strip() if body else body
    if not stripped:
        return []
    raw: list = []
    try:
        if stripped[:1] in (b"{", "{"):
            raw = parse_json(stripped).get("errors") or []
        elif stripped[:1] in (b"<", "<"):
            root = _root(parse_xml(stripped))
            errors = root.get("errors") or {}
            raw = errors.get("error") or [] if isinstance(errors, dict) else []
    except (CodecError, AttributeError):
        return []
    raw = raw if isinstance(raw, list) else [raw]
    result = []
    for error in raw:
        if not isinstance(error, dict):
            continue
        try:
            code = int(_scalar(error.get("code")) or 0)
        except ValueError:
            code = 0
        result.append(ShopError(code, _scalar(error.get("message"))))
    return result


# --- schemas -------------------------------------------------------------------


@dataclass
class FieldSpec:
    name: str
    required: bool = False
    read_only: bool = False
    translatable: bool = False
    format: str = ""
    max_size: int | None = None


@dataclass
class Schema:
    """What `?schema=synopsis` (or `blank`) says of a resource's fields."""

    resource: str  # the element name, e.g. "product"
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    associations: dict[str, str] = field(default_factory=dict)  # name -> item element

    @property
    def read_only(self) -> list[str]:
        """Fields a write must leave out: the shop refuses them (400, code 93)."""
        return [name for name, spec in self.fields.items() if spec.read_only]

    @property
    def required(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.required]


def _flag(node: dict, *names: str) -> bool:
    return any(str(node.get(f"@{n}", "")).lower() == "true" for n in names)


def decode_schema(body: bytes | str) -> Schema:
    """A schema, always asked in XML (the JSON one loses the attributes)."""
    root = _root(parse_xml(body))
    if len(root) != 1:
        raise CodecError("une seule ressource était attendue dans le schéma")
    ((element, node),) = root.items()
    schema = Schema(element)
    for name, value in (node or {}).items():
        if name.startswith(("@", "#")):
            continue
        if name == "associations":
            for assoc_name, group in (value or {}).items():
                if assoc_name.startswith(("@", "#")):
                    continue
                item_names = [k for k in (group or {}) if not k.startswith(("@", "#"))]
                schema.associations[assoc_name] = (
                    item_names[0] if item_names else str((group or {}).get("@nodeType", ""))
                )
            continue
        attributes = value if isinstance(value, dict) else {}
        max_size = attributes.get("@maxSize")
        schema.fields[name] = FieldSpec(
            name=name,
            required=_flag(attributes, "required"),
            read_only=_flag(attributes, "read_only", "readOnly"),
            translatable="language" in attributes,
            format=str(attributes.get("@format", "")),
            max_size=int(max_size) if max_size and str(max_size).isdigit() else None,
        )
    return schema


# --- writing -------------------------------------------------------------------


def _xml_out(value: Any) -> Any:
    if isinstance(value, Translated):
        return {"language": [{"@id": str(k), "#text": v} for k, v in sorted(value.items())]}
    if isinstance(value, Mapping):
        return {k: _xml_out(v) for k, v in value.items()}
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _singular(name: str) -> str:
    irregular = {"accessories": "product", "product_bundle": "product"}
    if name in irregular:
        return irregular[name]
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def encode(
    element: str,
    record: Mapping[str, Any],
    *,
    association_items: Mapping[str, str] | None = None,
    omit: Iterable[str] = (),
) -> bytes:
    """A record as the XML document the shop accepts for POST, PUT or PATCH.

    `association_items` names each association's item element, from the
    shop's own schema (`Schema.associations`); `omit` drops fields the
    shop refuses to be sent (the read-only ones).
    """
    association_items = association_items or {}
    skipped = set(omit)
    body: dict[str, Any] = {}
    for key, value in record.items():
        if key in skipped:
            continue
        if key == "associations":
            groups = {}
            for name, items in (value or {}).items():
                item_name = association_items.get(name) or _singular(name)
                groups[name] = {item_name: [_xml_out(item) for item in items]} if items else ""
            body["associations"] = groups
        else:
            body[key] = _xml_out(value)
    document = {"prestashop": {"@xmlns:xlink": XLINK, element: body}}
    xml = xmltodict.unparse(document, encoding="utf-8", pretty=False).encode("utf-8")
    # A parser turns a raw CR LF into LF; as a character reference the CR survives.
    return xml.replace(b"\r", b"&#13;")
