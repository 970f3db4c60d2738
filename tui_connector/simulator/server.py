"""A PrestaShop Webservice on loopback: the real shop's answers, its quirks and faults on demand.

`SimulatedShop(data).start()` serves on 127.0.0.1 (a free port unless
given) from a thread; `shop.url`, `shop.key`, `shop.data` (what the
connector wrote is there), `shop.faults` (change them while it runs).
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import random
import re
import secrets
import string
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tui_connector.prestashop import codec
from tui_connector.prestashop.errors import CodecError
from tui_connector.prestashop.versions import SIMULATED, Capabilities, parse_version
from tui_connector.simulator import wire
from tui_connector.simulator.wire import Writer, resource_layout

# The real version each profile answers as; what differs between them is in
# prestashop/versions.py, read here through Capabilities
VERSIONS = SIMULATED  # the releases it plays, declared beside the thresholds
# how the root describes the resources newer versions add (9.0.0's api_root.xml)
NEW_ROOT_ENTRIES = {"order_returns": {"description": "The order returns", "schemas": True}}
ALL_METHODS = {"get", "put", "post", "patch", "delete", "head"}
READ_ONLY_RESOURCES = {
    "order_states",
    "languages",
    "currencies",
    "countries",
    "states",
    "zones",
    "groups",
    "shops",
    "taxes",
    "tax_rules",
    "tax_rule_groups",
    "carriers",
}
NO_CREATE = {"stock_availables"}
SECURITY_PAGE = (
    b"<html><head><title>406 Not Acceptable</title></head><body><h1>Not Acceptable"
    b"</h1><p>An appropriate representation of the requested resource could not be "
    b"found on this server. (mod_security)</p></body></html>"
)


def new_key() -> str:
    """32 capitals and digits, as the shop's back office generates."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@dataclass
class Faults:
    latency_ms: float = 0.0
    rate_limit: float | None = None  # requests per second; above it: 429 Retry-After
    error_500: float = 0.0  # probability of an empty 500
    error_503: float = 0.0
    cut_body: float = 0.0  # probability of a body cut in the middle
    slow_body_ms: float = 0.0  # the body trickles out in 8 pieces, this long apart
    security_page: float = 0.0  # probability of an HTML mod_security page
    strip_authorization: bool = False  # the host drops the Authorization header
    seed: int = 0

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """'latency=20,503=0.1,cut=0.05,rate=10,html=0.1,strip-auth' from the command line."""
        faults = cls()
        names = {
            "latency": "latency_ms",
            "rate": "rate_limit",
            "500": "error_500",
            "503": "error_503",
            "cut": "cut_body",
            "slow": "slow_body_ms",
            "html": "security_page",
            "seed": "seed",
        }
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, value = item.partition("=")
            if name == "strip-auth":
                faults.strip_authorization = True
            elif name in names:
                current = getattr(faults, names[name])
                kind = int if isinstance(current, int) and name == "seed" else float
                try:
                    setattr(faults, names[name], kind(value))
                except ValueError:
                    raise ValueError(
                        f"valeur invalide pour la panne {name!r}: {value!r} (un nombre attendu)"
                    ) from None
            else:
                raise ValueError(
                    f"panne inconnue {name!r}: au choix {', '.join(names)}, strip-auth"
                )
        return faults


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "text/xml;charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class ShopData:
    """The shop's tables: {resource: {id: record}}, records in the codec's shapes."""

    def __init__(self, tables: dict[str, dict[int, dict]] | None = None):
        self.tables: dict[str, dict[int, dict]] = tables or {}
        self.lock = threading.RLock()
        # like AUTO_INCREMENT: never reuses the id of a deleted record
        self._last_id = {name: max(rows, default=0) for name, rows in self.tables.items()}
        self._indexes: dict[tuple[str, str], dict[str, list[dict]]] = {}

    def table(self, resource: str) -> dict[int, dict]:
        return self.tables.setdefault(resource, {})

    # Like a database's index on the id_* columns: a filter on one of them by exact
    # values (`filter[id_order]=[12]`) looks records up instead of scanning the
    # table. Off by default: in-process tests change records behind the engine's back.
    indexed = False

    def by_value(self, resource: str, name: str) -> dict[str, list[dict]]:
        with self.lock:
            index = self._indexes.get((resource, name))
            if index is None:
                index = {}
                for record in self.table(resource).values():
                    index.setdefault(str(record.get(name, "")), []).append(record)
                self._indexes[(resource, name)] = index
            return index

    def changed(self) -> None:
        """After any write: the indexes are rebuilt when next needed."""
        with self.lock:
            self._indexes.clear()

    def insert(self, resource: str, record: dict) -> dict:
        with self.lock:
            last = self._last_id.get(resource, 0)
            record_id = int(record.get("id") or last + 1)
            self._last_id[resource] = max(last, record_id)
            record["id"] = str(record_id)
            self.table(resource)[record_id] = record
            self._indexes.clear()
            return record


class _Error(Exception):
    def __init__(self, status: int, errors: list[tuple[int, str]] | None = None, *, body=None):
        self.status, self.errors, self.body = status, errors or [], body


class Engine:
    """The Webservice's behaviour, separate from HTTP so tests can call it directly."""

    def __init__(
        self,
        data: ShopData,
        *,
        key: str,
        version: str = "8",
        permissions: dict[str, set[str]] | None = None,
        faults: Faults | None = None,
    ):
        self.data = data
        self.key = key
        self.version = VERSIONS.get(version, version)
        # any version, even one the client refuses: a test may play an old shop
        self.capabilities = Capabilities(parse_version(self.version))
        self.permissions = permissions
        self.faults = faults or Faults()
        self.requests = 0
        self.asked: set[tuple[str, str]] = set()  # (resource, method) every request named
        self.gone = False
        self._random = random.Random(self.faults.seed)
        self._times: list[float] = []
        self._lock = threading.Lock()
        self.base_url = "http://127.0.0.1"

    def allowed(self, resource: str, method: str) -> bool:
        if self.permissions is None:
            if resource in READ_ONLY_RESOURCES:
                return method in ("get", "head")
            return True
        return method in self.permissions.get(resource, set())

    def root_entries(self) -> list[dict]:
        caps = self.capabilities
        entries = [e for e in wire.layout()["root"] if e["name"] not in caps.gone_from_root]
        entries += [{"name": name, **NEW_ROOT_ENTRIES[name]} for name in caps.new_in_root]
        return sorted(entries, key=lambda e: e["name"])

    def root_permissions(self) -> dict[str, set[str]]:
        names = [entry["name"] for entry in self.root_entries()]
        return {n: {m for m in ALL_METHODS if self.allowed(n, m)} for n in names}

    def _query_error(self, code: int, message: str) -> _Error:
        """A bad filter, display or sort: 400 on 8.1.2; on 9.0.0 a 500 with the same error
        and four PHP warnings (code 3) after it."""
        if self.capabilities.query_error_status == 400:
            return _Error(400, [(code, message)])
        warning = (
            "[PHP Warning #2] Trying to access array offset on value of type bool "
            "(/srv/shop/classes/webservice/WebserviceRequest.php, line {})"
        )
        warnings = [(3, warning.format(1319 + i)) for i in range(4)]
        return _Error(self.capabilities.query_error_status, [(code, message), *warnings])

    # --- entry point ------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        with self._lock:
            self.requests += 1
        faults = self.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        fault = self._fault()
        if fault is not None:
            return fault
        parts = urlsplit(target)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if path.startswith("/webservice/dispatcher.php"):
            path = "/api/" + params.pop("url", "")
        json_out = self._json_requested(params, headers)
        writer = Writer(self.base_url, [1, 2])
        try:
            if not path.startswith("/api"):
                raise _Error(404, body=b"")
            self._authenticate(headers, params)
            segments = [s for s in path[len("/api") :].split("/") if s]
            try:
                response = self._route(method, segments, params, body, writer, json_out)
            finally:
                if method not in ("GET", "HEAD"):
                    self.data.changed()
        except _Error as error:
            if error.body is not None:
                response = Response(
                    error.status, error.body, None if not error.body else "text/html; charset=utf-8"
                )
            else:
                response = Response(
                    error.status,
                    writer.json_errors(error.errors)
                    if json_out
                    else writer.xml_errors(error.errors),
                    "application/json" if json_out else "text/xml;charset=utf-8",
                )
            if error.status == 401:
                response.headers["WWW-Authenticate"] = (
                    'Basic realm="Welcome to PrestaShop Webservice, please enter the '
                    'authentication key as the login. No password required."'
                )
        response.headers.setdefault("PSWS-Version", "0" if response.status == 401 else self.version)
        response.headers["X-Powered-By"] = "PrestaShop Webservice"
        if response.status == 200 and faults.cut_body and self._random.random() < faults.cut_body:
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _fault(self) -> Response | None:
        faults = self.faults
        if faults.rate_limit:
            now = time.monotonic()
            with self._lock:
                self._times = [t for t in self._times if now - t < 1.0]
                over = len(self._times) >= faults.rate_limit
                if not over:
                    self._times.append(now)
            if over:
                return Response(429, b"", "text/html", {"Retry-After": "1"})
        roll = self._random.random()
        for probability, status in ((faults.error_500, 500), (faults.error_503, 503)):
            if roll < probability:
                return Response(status, b"", "text/html; charset=utf-8")
            roll -= probability
        if faults.security_page and self._random.random() < faults.security_page:
            return Response(406, SECURITY_PAGE, "text/html; charset=iso-8859-1")
        return None

    def _json_requested(self, params: dict, headers: dict) -> bool:
        if not self.capabilities.json_output:
            return False
        wanted = (
            params.get("output_format")
            or params.get("io_format")
            or headers.get("output-format", "")
        )
        return wanted.upper() == "JSON"

    def _authenticate(self, headers: dict, params: dict) -> None:
        given = params.pop("ws_key", None)
        authorization = headers.get("authorization", "")
        if (
            given is None
            and authorization.startswith("Basic ")
            and not self.faults.strip_authorization
        ):
            try:
                given = base64.b64decode(authorization[6:]).decode().partition(":")[0]
            except ValueError:
                given = ""
        if given is None:
            raise _Error(401, body=b"401 Unauthorized")
        if not secrets.compare_digest(given, self.key):
            raise _Error(
                401,
                [
                    (20, "Authentification key is not active"),
                    (21, "No permission for this authentication key"),
                ],
            )

    # --- routing ------------------------------------------------------------------

    def _route(self, method, segments, params, body, writer: Writer, json_out) -> Response:
        verb = method.lower()
        if segments:
            self.asked.add((segments[0], "put" if verb == "patch" else verb))  # what a flow used
        if not segments:
            if method != "GET" and method != "HEAD":
                raise _Error(500, body=b"")
            return Response(
                200, writer.xml_root(self.root_permissions(), entries=self.root_entries())
            )
        resource, rest = segments[0], segments[1:]
        known = {entry["name"] for entry in wire.layout()["root"]}
        if resource not in known:
            listing = ", ".join(f'"{n}"' for n in sorted(known))
            closest = difflib.get_close_matches(resource, sorted(known), n=1, cutoff=0) or [""]
            raise _Error(
                400,
                [
                    (
                        27,
                        f'Resource of type "{resource}" does not exists. Did you '
                        f'mean: "{closest[0]}"? The full list is: {listing}',
                    )
                ],
            )
        if verb == "patch" and not self.capabilities.patch:
            raise _Error(405, [(23, "Method PATCH is not valid")])
        if not self.allowed(resource, verb):
            if verb in ("get", "head"):  # as the real shop answers (limited_messages)
                raise _Error(
                    401,
                    [
                        (
                            26,
                            f'Resource of type "{resource}" is not allowed with this '
                            "authentication key",
                        )
                    ],
                )
            raise _Error(405, [(23, f"Method {method} is not allowed for this resource")])
        if resource == "images":
            return self._images(method, rest, body, writer)
        record_id = int(rest[0]) if rest and rest[0].isdigit() else None
        if verb in ("get", "head"):
            if "schema" in params:
                return Response(200, writer.xml_schema(resource, params["schema"] == "synopsis"))
            if record_id is not None and "display" not in params:
                return self._get_one(resource, record_id, params, writer, json_out)
            if record_id is not None:
                params = {**params, "filter[id]": f"[{record_id}]"}
            return self._list(resource, params, writer, json_out)
        if verb == "post":
            if record_id is not None:
                raise _Error(400, [(41, 'parameter "price" required')])
            return self._write(resource, None, body, writer, json_out, partial=False)
        if verb in ("put", "patch"):
            return self._write(resource, record_id, body, writer, json_out, partial=verb == "patch")
        if verb == "delete":
            if record_id is None:
                raise _Error(500, body=b"")
            with self.data.lock:
                if self.data.table(resource).pop(record_id, None) is None:
                    raise _Error(404, body=b"")
            return Response(200, b"", None)
        raise _Error(405, [(23, f"Method {method} is not valid")])

    def _get_one(self, resource, record_id, params, writer, json_out) -> Response:
        record = self.data.table(resource).get(record_id)
        if record is None:
            raise _Error(404, body=b"")
        language = int(params["language"]) if params.get("language", "").isdigit() else None
        extra = self._computed_prices(record, params) if resource == "products" else {}
        if json_out and record.get(JSON_BREAKS):
            return _php_warning()
        if json_out:
            return Response(
                200, writer.json_one(resource, record, language, extra), "application/json"
            )
        return Response(200, writer.xml_one(resource, record, extra))

    def _computed_prices(self, product: dict, params: dict) -> dict[str, str]:
        """`price[NAME][country]=8&price[NAME][use_tax]=0...`: the shop's price, as computed."""
        asked: dict[str, dict[str, str]] = {}
        for key, value in params.items():
            match = re.fullmatch(r"price\[(\w+)\]\[(\w+)\]", key)
            if match:
                asked.setdefault(match.group(1), {})[match.group(2)] = value
        return {name: self.price_of(product, options) for name, options in asked.items()}

    def price_of(self, product: dict, options: dict[str, str]) -> str:
        from decimal import Decimal

        attribute = options.get("product_attribute", "0") or "0"
        country, group = options.get("country", "0"), options.get("group", "0")
        quantity = int(options.get("quantity") or 1)
        base = Decimal(product.get("price") or 0)
        combination = self.data.table("combinations").get(int(attribute))
        if combination is not None:
            base += Decimal(combination.get("price") or 0)
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        best, best_score = None, None
        for specific in self.data.table("specific_prices").values():
            if specific.get("id_product") != product["id"] or specific.get(
                "id_customer", "0"
            ) not in ("0", ""):
                continue
            if specific.get("id_product_attribute", "0") not in ("0", attribute):
                continue
            if specific.get("id_country", "0") not in ("0", country):
                continue
            if specific.get("id_group", "0") not in ("0", group):
                continue
            if int(specific.get("from_quantity") or 1) > quantity:
                continue
            start, end = specific.get("from") or "", specific.get("to") or ""
            if start and not start.startswith("0000") and start > now:
                continue
            if end and not end.startswith("0000") and end < now:
                continue
            score = (
                specific.get("id_product_attribute", "0") != "0",
                specific.get("id_country", "0") != "0",
                specific.get("id_group", "0") != "0",
                int(specific.get("from_quantity") or 1),
            )
            if best_score is None or score > best_score:
                best, best_score = specific, score
        price = base
        if best is not None:
            fixed = Decimal(best.get("price") or "-1")
            if fixed >= 0:
                price = fixed
            reduction = Decimal(best.get("reduction") or 0)
            if best.get("reduction_type") == "percentage":
                price = price * (1 - reduction)
            else:
                price -= reduction
        if options.get("use_tax", "1") == "1":
            group_id = int(product.get("id_tax_rules_group") or 0)
            rule = next(
                (
                    r
                    for r in self.data.table("tax_rules").values()
                    if r.get("id_tax_rules_group") == str(group_id)
                ),
                None,
            )
            tax = self.data.table("taxes").get(int(rule["id_tax"])) if rule else None
            if tax is not None:
                price = price * (1 + Decimal(tax["rate"]) / 100)
        return f"{price.quantize(Decimal('0.000001')):f}"

    # --- lists --------------------------------------------------------------------

    def _list(self, resource, params, writer: Writer, json_out) -> Response:
        names = wire.field_names(resource)
        dates_on = params.get("date") == "1"
        usable = [n for n in names if dates_on or not n.startswith("date_")]
        display: Any = None
        raw_display = params.get("display")
        if raw_display == "full":
            display = "full"
        elif raw_display:
            display = [f.strip() for f in raw_display.strip("[]").split(",") if f.strip()]
            for name in display:
                if name not in names:
                    raise self._query_error(
                        35,
                        f'Unable to display this field "{name}". However, '
                        f"these are available: {', '.join(names)}",
                    )
        conditions = []
        for key, expression in params.items():
            match = re.fullmatch(r"filter\[([^\]]*)\]", key)
            if not match:
                continue
            name = match.group(1)
            if name not in usable:
                listing = ", ".join(f'"{n}"' for n in usable)
                raise self._query_error(
                    32,
                    f'This filter does not exist. Did you mean: "{names[-1]}"? '
                    f"The full list is: {listing}",
                )
            condition = parse_filter(expression)
            if condition is None:  # the real shop answers a malformed filter with nothing
                return self._render_list(resource, [], display, writer, json_out, params)
            conditions.append((name, condition))
        with self.data.lock:
            candidates = self._candidates(resource, params)
            records = [
                r for r in candidates if all(test(str(r.get(n, ""))) for n, test in conditions)
            ]
        order = [("id", False)]
        if params.get("sort"):
            order = []
            for item in params["sort"].strip("[]").split(","):
                name, _, direction = item.strip().rpartition("_")
                if name not in usable or direction not in ("ASC", "DESC"):
                    raise self._query_error(
                        38,
                        "Unable to filter by this field. However, these are "
                        f"available: {', '.join(usable)}",
                    )
                order.append((name, direction == "DESC"))
        for name, descending in reversed(order):
            records.sort(key=lambda r, n=name: _sort_key(r.get(n, "")), reverse=descending)
        if "limit" in params:
            window = parse_limit(params["limit"])
            if window is None:
                records = []
            else:
                offset, count = window
                records = records[offset : offset + count]
        return self._render_list(resource, records, display, writer, json_out, params)

    def _candidates(self, resource: str, params: dict) -> Iterable[dict]:
        """The records a list must test: all, or those an index gives for an id filter."""
        if self.data.indexed:
            for key, expression in params.items():
                match = re.fullmatch(r"filter\[(id(?:_\w+)?)\]", key)
                if not match:
                    continue
                text = expression.strip()
                values = re.fullmatch(r"\[?(\d+(?:\|\d+)*)\]?", text)
                interval = re.fullmatch(r"\[(\d+),(\d+)\]", text)
                if values:
                    wanted = dict.fromkeys(int(v) for v in values.group(1).split("|"))
                elif interval and int(interval[2]) - int(interval[1]) <= 10000:  # a page's ids
                    wanted = dict.fromkeys(range(int(interval[1]), int(interval[2]) + 1))
                else:
                    continue
                index = self.data.by_value(resource, match.group(1))
                return [r for v in wanted for r in index.get(str(v), [])]
        return self.data.table(resource).values()

    def _render_list(self, resource, records, display, writer, json_out, params) -> Response:
        language = int(params["language"]) if params.get("language", "").isdigit() else None
        if json_out and display and any(r.get(JSON_BREAKS) for r in records):
            return _php_warning()
        if json_out:
            return Response(
                200, writer.json_list(resource, records, display, language), "application/json"
            )
        return Response(200, writer.xml_list(resource, records, display))

    # --- writes -------------------------------------------------------------------

    def _write(self, resource, record_id, body, writer, json_out, *, partial) -> Response:
        if resource in NO_CREATE and record_id is None:
            raise _Error(405, [(23, f"Method POST is not allowed for {resource}")])
        try:
            incoming = codec.decode_one(body)
        except CodecError:
            text = body.decode("utf-8", "replace")
            raise _Error(
                500,
                [
                    (
                        127,
                        f"XML error : String could not be parsed as XML\nXML length"
                        f" : {len(body)}\nOriginal XML : {text}",
                    )
                ],
            ) from None
        if incoming.get("id"):  # the body's id wins over the URL's, as in the real shop
            record_id = int(incoming["id"])
        layout = resource_layout(resource)
        synopsis = layout.get("synopsis", {})
        element = layout["element"]
        read_only = [n for n, a in synopsis.items() if a.get("readOnly") == "true"]
        for name in read_only:
            if name in incoming:
                raise _Error(
                    400,
                    [
                        (
                            93,
                            f'parameter "{name}" not writable. Please remove this '
                            "attribute of this XML",
                        )
                    ],
                )
        unknown = [n for n in incoming if n not in [*wire.field_names(resource), "associations"]]
        if unknown:
            raise _Error(400, [(40, f'parameter "{unknown[0]}" not available')])
        with self.data.lock:
            table = self.data.table(resource)
            if record_id is not None:
                current = table.get(record_id)
                if current is None:
                    raise _Error(404, body=b"")
                base = dict(current) if partial else {}
            else:
                base = {}
            merged = {**base, **incoming}
            if not partial:
                for name, attrs in synopsis.items():
                    if attrs.get("required") == "true" and not codec.text(merged.get(name)):
                        raise _Error(400, [(41, f'parameter "{name}" required')])
            for name, attrs in synopsis.items():
                if name in incoming and not _valid(attrs.get("format", ""), incoming[name]):
                    cls = element.title().replace("_", "")
                    raise _Error(
                        400, [(85, f'Validation error: "Property {cls}->{name} is not valid"')]
                    )
            now = time.strftime("%Y-%m-%d %H:%M:%S")
            if "date_upd" in wire.field_names(resource):
                merged["date_upd"] = now
                if record_id is None:
                    merged["date_add"] = now
            if record_id is not None:
                merged["id"] = str(record_id)
                for name in read_only:  # kept as they were
                    if name in base or name in (current or {}):
                        merged[name] = current.get(name, "")
                table[record_id] = merged
                status = 200
            else:
                merged.pop("id", None)
                merged = self.data.insert(resource, merged)
                status = 201
            self._side_effects(resource, merged, created=status == 201)
        if json_out:
            return Response(status, writer.json_one(resource, merged), "application/json")
        return Response(status, writer.xml_one(resource, merged))

    def _side_effects(self, resource: str, record: dict, *, created: bool) -> None:
        """What the real shop does around a write: stock rows, product quantities."""
        if resource in ("products", "combinations") and created:
            product_id = record["id"] if resource == "products" else record.get("id_product", "0")
            attribute_id = "0" if resource == "products" else record["id"]
            stock = self.data.insert(
                "stock_availables",
                {
                    "id_product": product_id,
                    "id_product_attribute": attribute_id,
                    "id_shop": "1",
                    "id_shop_group": "0",
                    "quantity": "0",
                    "depends_on_stock": "0",
                    "out_of_stock": "2",
                    "location": "",
                },
            )
            product = self.data.table("products").get(int(product_id))
            if product is not None:
                associations = product.setdefault("associations", {})
                associations.setdefault("stock_availables", []).append(
                    {"id": stock["id"], "id_product_attribute": attribute_id}
                )
                if resource == "combinations":
                    associations.setdefault("combinations", []).append({"id": record["id"]})
        if resource == "stock_availables":
            product = self.data.table("products").get(int(record.get("id_product") or 0))
            if product is not None:
                total = sum(
                    int(s.get("quantity") or 0)
                    for s in self.data.table("stock_availables").values()
                    if s.get("id_product") == record.get("id_product")
                    and s.get("id_product_attribute") != "0"
                )
                if record.get("id_product_attribute") == "0" and not total:
                    total = int(record.get("quantity") or 0)
                product["quantity"] = str(total)

    # --- images -------------------------------------------------------------------

    def _images(self, method, rest, body, writer) -> Response:
        if len(rest) < 2 or rest[0] != "products" or not rest[1].isdigit():
            return Response(
                200, wire.XML_HEAD.encode() + b"<image_types/>\n" + wire.XML_TAIL.encode()
            )
        product_id = int(rest[1])
        product = self.data.table("products").get(product_id)
        if product is None:
            raise _Error(404, body=b"")
        images = self.data.table("images")
        if method == "POST":
            match = re.search(rb"\r\n\r\n(.*)\r\n--", body, re.S)
            content = match.group(1) if match else body
            image = self.data.insert("images", {"id_product": str(product_id), "content": content})
            product.setdefault("associations", {}).setdefault("images", []).append(
                {"id": image["id"]}
            )
            if not product.get("id_default_image"):
                product["id_default_image"] = image["id"]
            xml = (
                wire.XML_HEAD + f"<image>\n\t<id>{wire.cdata(image['id'])}</id>\n\t<id_product>"
                f"{wire.cdata(product_id)}</id_product>\n</image>\n" + wire.XML_TAIL
            )
            return Response(200, xml.encode())
        if len(rest) >= 3 and rest[2].isdigit():
            image = images.get(int(rest[2]))
            if image is None or image["id_product"] != str(product_id):
                raise _Error(404, body=b"")
            return Response(200, image["content"], "image/jpeg")
        ids = [i for i, img in images.items() if img["id_product"] == str(product_id)]
        items = "".join(
            f'<declination id="{i}" xlink:href="{self.base_url}/api/images/products/'
            f'{product_id}/{i}"/>\n'
            for i in ids
        )
        return Response(
            200,
            (
                wire.XML_HEAD + f'<image id="{product_id}">\n{items}</image>\n' + wire.XML_TAIL
            ).encode(),
        )


# A record PrestaShop's JSON renderer cannot print (a product with a language row
# missing): display_errors puts a PHP warning in place of the answer, status 500. The
# XML renderer prints it. Set `record[JSON_BREAKS] = True` to have one.
JSON_BREAKS = "_json_breaks"


def _php_warning() -> Response:
    body = (
        b"<br />\n<b>Warning</b>:  Undefined array key 2 in <b>/var/www/html/classes/"
        b"webservice/WebserviceOutputJSON.php</b> on line <b>175</b><br />\n"
    )
    return Response(500, body, "text/html; charset=UTF-8")


def _sort_key(value: Any):
    text = codec.text(value)
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text.lower())


def _compare(a: str, b: str) -> int:
    try:
        x, y = float(a), float(b)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", b):  # a date bound is midnight, as in SQL
            b += " 00:00:00"
        x, y = a.lower(), b.lower()
    return (x > y) - (x < y)


def parse_filter(expression: str):
    """A test for one filter expression, or None when the real shop would answer nothing."""
    text = expression.strip()
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    if re.fullmatch(r"[^\[\]|,%<>!]*", text):  # filter[id_product]=1
        return lambda v, t=text: (v == t) != negate
    match = re.fullmatch(r"([<>]?)(%?)\[([^\[\]]*)\](%?)", text)
    if not match:
        return None
    op, like_left, inner, like_right = match.groups()
    if op:
        sign = 1 if op == ">" else -1
        return lambda v: (_compare(v, inner) == sign) != negate
    if like_left or like_right:
        pattern = (
            (".*" if like_left else "^") + re.escape(inner.lower()) + (".*" if like_right else "$")
        )
        return lambda v: bool(re.search(pattern, v.lower())) != negate
    if "," in inner:
        low, _, high = inner.partition(",")
        if not low or not high or "," in high:
            return None
        return lambda v: (_compare(v, low) >= 0 and _compare(v, high) <= 0) != negate
    options = set(inner.split("|"))
    numbers = set()
    for option in options:
        with contextlib.suppress(ValueError):
            numbers.add(float(option))
    lowered = {o.lower() for o in options}

    def matches(value: str) -> bool:
        # as SQL compares: the same text, or the same number (19.12 = 19.120000)
        if value in options or value.lower() in lowered:
            return True
        if numbers:
            try:
                return float(value) in numbers
            except ValueError:
                return False
        return False

    return lambda v: matches(v) != negate


def parse_limit(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(?:(\d+)\s*,\s*)?(\d+)\s*", text)
    if not match:
        return None
    return int(match.group(1) or 0), int(match.group(2))


def _valid(fmt: str, value: Any) -> bool:
    text = codec.text(value)
    if text == "":
        return True
    if fmt in ("isPrice", "isUnsignedFloat"):
        return bool(re.fullmatch(r"\d+(\.\d+)?", text))
    if fmt in ("isFloat", "isNegativePrice"):
        return bool(re.fullmatch(r"-?\d+(\.\d+)?", text))
    if fmt in ("isUnsignedId", "isUnsignedInt"):
        return text.isdigit()
    if fmt == "isInt":
        return bool(re.fullmatch(r"-?\d+", text))
    if fmt == "isBool":
        return text in ("0", "1")
    if fmt == "isEan13":
        return bool(re.fullmatch(r"\d{0,13}", text))
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a stopped run, a timeout) is not an error to print:
        in the demo, a traceback on stderr would tear the terminal application."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer
    disable_nagle_algorithm = True
    engine: Engine

    def log_message(self, *args) -> None:  # never log: URLs may carry ws_key
        pass

    def _serve(self) -> None:
        if self.engine.gone:  # the shop went away: the connection drops, nothing answers
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.engine.handle(self.command, self.path, headers, body)
        self.send_response(response.status)
        self.send_header("Server", "tui-connector-simulator")
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Set-Cookie", "PrestaShop-0=sim; path=/; HttpOnly; SameSite=Lax")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        pause = self.engine.faults.slow_body_ms / 1000
        if pause and len(response.body) > 8:
            step = len(response.body) // 8 + 1
            for start in range(0, len(response.body), step):
                self.wfile.write(response.body[start : start + step])
                self.wfile.flush()
                time.sleep(pause)
        else:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class SimulatedShop:
    """The engine behind a real HTTP server on 127.0.0.1, in a background thread."""

    def __init__(
        self,
        data: ShopData,
        *,
        key: str | None = None,
        version: str = "8",
        port: int = 0,
        faults: Faults | None = None,
        permissions: dict[str, set[str]] | None = None,
        indexed: bool = False,
    ):
        self.key = key or new_key()
        data.indexed = indexed
        self.engine = Engine(
            data, key=self.key, version=version, faults=faults, permissions=permissions
        )
        handler = type("Handler", (_Handler,), {"engine": self.engine})
        self.server = _Server(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.engine.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def data(self) -> ShopData:
        return self.engine.data

    @property
    def faults(self) -> Faults:
        return self.engine.faults

    @property
    def requests(self) -> int:
        return self.engine.requests

    def start(self) -> SimulatedShop:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.engine.gone = True  # connections kept alive by clients drop too
        self.server.shutdown()
        self.server.server_close()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def __enter__(self) -> SimulatedShop:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
