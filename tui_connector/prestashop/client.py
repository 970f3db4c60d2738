"""The one Webservice client: every read and write of the shop goes through here.

Async on httpx, with a synchronous face (`SyncWebservice`) for thread
workers and the command line. One connection pool, a bounded number of
requests in flight, a gentle mode with a maximum request rate. What an
answer means and when a request is sent again are decided in transport.py
(`classify`, `RetryPolicy`); what differs between versions in versions.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

import httpx

from tui_connector import __version__
from tui_connector.config import Secret
from tui_connector.prestashop import codec
from tui_connector.prestashop.codec import Record, Schema
from tui_connector.prestashop.errors import (
    HTACCESS_HINT,
    AnswerTooLarge,
    CodecError,
    PagingStuck,
    PrestaShopError,
    SecurityFilterPage,
    ShopBusy,
    ShopTimeout,
    ShopUnreachable,
)
from tui_connector.prestashop.query import Filter, Query
from tui_connector.prestashop.transport import (
    Asked,
    RetryPolicy,
    basic_auth_refused,
    classify,
    failure,
    retry_after,
)
from tui_connector.prestashop.versions import Capabilities, capabilities

log = logging.getLogger(__name__)
MAX_ANSWER = 256 * 2**20  # a page of 500 full orders is a few MB

METHODS = ("get", "put", "post", "patch", "delete", "head")
ID_BATCH = 100  # ids per filter[id]=[1|2|...]: keeps URLs well under 2,000 characters


class _RedactKey(logging.Filter):
    """httpx logs request URLs; in ws_key mode they carry the key."""

    pattern = re.compile(r"(ws_key=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ws_key=" in message:
            record.msg, record.args = self.pattern.sub(r"\1***", message), ()
        return True


for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_RedactKey())


@dataclass
class ShopRoot:
    """What GET /api/ says: the version, and what the key may do on each resource."""

    capabilities: Capabilities
    permissions: dict[str, set[str]] = field(default_factory=dict)

    def allows(self, resource: str, method: str) -> bool:
        return method in self.permissions.get(resource, set())


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in ("localhost", "::1") or host.startswith("127."))


class Webservice:
    """An async client for one shop."""

    def __init__(
        self,
        base_url: str,
        key: Secret | str,
        *,
        auth_mode: str = "basic",
        max_in_flight: int = 4,
        timeout: float = 30.0,
        deadline: float | None = None,
        max_answer: int = MAX_ANSWER,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_rate: float | None = None,
        retry: RetryPolicy | None = None,
        prefer_json: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        on_notice: Callable[[str], None] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/api"):
            self.base_url = self.base_url[: -len("/api")]
        self._key = key if isinstance(key, Secret) else Secret(key)
        self.auth_mode = auth_mode
        self.retry = retry or RetryPolicy(retries, backoff, max_backoff)
        self.prefer_json = prefer_json
        self.on_notice = on_notice or (lambda message: log.warning("%s", message))
        self._sleep = sleep
        self._limit = asyncio.Semaphore(max(1, max_in_flight))
        self._min_interval = 1.0 / max_rate if max_rate else 0.0
        self._next_slot = 0.0
        self._rate_lock = asyncio.Lock()
        self._timeout = timeout
        # the whole answer, however it trickles in: a shop or proxy dripping a byte a
        # second never trips the read timeout, which counts between two bytes
        self._deadline = deadline if deadline is not None else max(60.0, 4 * timeout)
        self._max_answer = max_answer
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.root: ShopRoot | None = None
        self.requests_made = 0
        self._schemas: dict[tuple[str, str], Schema] = {}  # a shop's schemas do not change
        parsed = urlparse(self.base_url)
        if parsed.scheme == "http" and not is_loopback(parsed.hostname):
            self.on_notice(
                f"{parsed.hostname} est joint en http simple: la clé API circule en clair. "
                "Utilisez https:// si la boutique le propose."
            )

    def __repr__(self) -> str:
        return f"Webservice({self.base_url!r}, key={self._key!r}, auth_mode={self.auth_mode!r})"

    # --- plumbing ---------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=min(10.0, self._timeout)),
                transport=self._transport,
                headers={"User-Agent": f"tui-connector/{__version__}"},
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                follow_redirects=False,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Webservice:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    def _auth(self, mode: str) -> tuple[httpx.Auth | None, dict[str, str]]:
        if mode == "ws_key":
            return None, {"ws_key": self._key.reveal()}
        return httpx.BasicAuth(self._key.reveal(), ""), {}

    async def _pace(self) -> None:
        if not self._min_interval:
            return
        async with self._rate_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._min_interval
        if wait > 0:
            await self._sleep(wait)

    async def _send_once(
        self, method: str, path: str, params: dict, content: bytes | None, files, mode: str
    ) -> httpx.Response:
        auth, key_params = self._auth(mode)
        await self._pace()
        async with self._limit:
            self.requests_made += 1
            request = self.http.build_request(
                method,
                f"{self.base_url}/api/{path}".rstrip("/") + ("/" if not path else ""),
                params={**params, **key_params},
                content=content,
                files=files,
                headers={"Content-Type": "text/xml"} if content is not None else None,
            )
            try:
                return await asyncio.wait_for(self._bounded(request, auth), self._deadline)
            except TimeoutError:
                raise ShopTimeout(
                    f"la boutique n'a pas fini sa réponse à {method} /api/{path} en "
                    f"{self._deadline:.0f} s",
                    hint="la boutique, ou un proxy devant elle, envoie sa réponse trop lentement: "
                    "rien n'en a été gardé; réessayez plus tard",
                ) from None

    async def _bounded(self, request: httpx.Request, auth) -> httpx.Response:
        """The answer read as it comes, refused past the size any page can have."""
        response = await self.http.send(request, auth=auth, stream=True)
        try:
            body, size = [], 0
            async for chunk in response.aiter_bytes():  # decoded: a zip bomb counts whole
                size += len(chunk)
                if size > self._max_answer:
                    raise AnswerTooLarge(
                        f"la réponse de la boutique à {request.method} {request.url.path} "
                        f"dépasse {self._max_answer // 2**20} Mo: refusée",
                        hint="aucune page du Webservice n'est aussi grande: un proxy ou un module "
                        "envoie autre chose; rien n'en a été gardé",
                    )
                body.append(chunk)
        finally:
            await response.aclose()
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(body),
            request=request,
            extensions=response.extensions,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files=None,
        expect: str = "xml",
    ) -> httpx.Response:
        """Send as the retry policy says; return a 2xx response or raise the error that fits."""
        return await self._exchange(method, path, params, content, files, expect, decode=None)

    async def _exchange(self, method, path, params, content, files, expect, decode):
        """The request, and when the host strips the Authorization header (a 401 although
        the key may be right), the same request with the key in ?ws_key=."""
        asked = Asked(method, path, self.base_url, expect)
        params = dict(params or {})
        try:
            return await self._with_retries(asked, params, content, files, decode)
        except PrestaShopError as error:
            if not (basic_auth_refused(error) and await self._switch_to_ws_key()):
                raise
        return await self._with_retries(asked, params, content, files, decode)

    async def _with_retries(self, asked: Asked, params, content, files, decode):
        """Send until the answer is usable (and decodes, given `decode`) or the policy gives
        up; the one loop that sends again, for every request."""
        idempotent = asked.method != "POST"  # a POST the shop may have done is not repeated
        attempt = 0
        while True:
            hinted = None
            try:
                response = await self._send_once(
                    asked.method, asked.path, params, content, files, self.auth_mode
                )
            except httpx.HTTPError as exc:
                if not self.retry.retries_failure(exc, idempotent=idempotent, attempt=attempt):
                    raise failure(exc, asked, self._timeout) from None
            else:
                error = classify(
                    response.status_code, response.headers, response.content, asked, retried=attempt
                )
                if error is None:
                    if decode is None:
                        return response
                    try:
                        return decode(response)
                    except CodecError as exc:
                        error = exc
                if not self.retry.retries_answer(
                    response.status_code, error, idempotent=idempotent, attempt=attempt
                ):
                    raise error
                hinted = retry_after(response.headers.get("Retry-After"))
            await self._sleep(self.retry.delay(attempt, hinted))
            attempt += 1

    async def _switch_to_ws_key(self) -> bool:
        """Whether the key works in ?ws_key= where Basic auth failed; if so, from now on."""
        if self.auth_mode != "basic":
            return False
        try:
            response = await self._send_once("GET", "", {}, None, None, "ws_key")
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        self.auth_mode = "ws_key"
        self.on_notice("la boutique a refusé l'en-tête Authorization: " + HTACCESS_HINT)
        return True

    # --- the shop itself ---------------------------------------------------------

    async def connect(self) -> ShopRoot:
        """GET /api/ (always in XML: the real shop crashes on the JSON root)."""
        response = await self.request("GET", "")
        caps = capabilities(response.headers.get("PSWS-Version"))
        root = codec._root(codec.parse_xml(response.content))
        api = root.get("api") or {}
        permissions: dict[str, set[str]] = {}
        for name, node in api.items():
            if name.startswith("@") or not isinstance(node, dict):
                continue
            permissions[name] = {m for m in METHODS if str(node.get(f"@{m}", "")) == "true"}
        self.root = ShopRoot(caps, permissions)
        return self.root

    async def ensure_connected(self) -> ShopRoot:
        return self.root or await self.connect()

    async def _use_json(self) -> bool:
        if not self.prefer_json:
            return False
        root = await self.ensure_connected()
        return root.capabilities.json_output

    # --- reading -------------------------------------------------------------------

    async def list(self, resource: str, query: Query | None = None) -> list[Record]:
        query = query or Query()
        json_format = await self._use_json()
        params = query.params()
        if not json_format:
            return await self._read(resource, params, False, many=True)
        try:
            return await self._read(resource, {**params, "output_format": "JSON"}, True, many=True)
        except (ShopBusy, SecurityFilterPage) as exc:
            if exc.status != 500 or not (isinstance(exc, SecurityFilterPage) or exc.php_failed):
                raise  # (an empty 500, already retried: the shop is down, not its JSON)
            # PrestaShop's JSON renderer fails on some records (a translation row missing:
            # a PHP warning in place of the answer, status 500); its XML renderer does not
            self.on_notice(
                f"la boutique n'a pas pu donner {resource} en JSON (statut 500): lu en XML"
            )
            return await self._read(resource, params, False, many=True)

    async def _read(self, path: str, params: dict, json_format: bool, *, many: bool):
        # by the asked format, not the Content-Type: the real shop answers an empty JSON
        # list "[]" with an XML content type, or none
        decoder = codec.decode_list if many else codec.decode_one
        return await self._get(
            path,
            params,
            "json" if json_format else "xml",
            lambda body: decoder(body, json_format=json_format),
        )

    async def _get(self, path: str, params: dict, expect: str, parse: Callable[[bytes], Any]):
        """GET and decode; an answer cut or damaged on its way is asked again (a GET is safe)."""

        def decode(response: httpx.Response):
            try:
                return parse(response.content)
            except CodecError as exc:
                request = response.request
                raise CodecError(
                    f"{exc.message} (réponse à {request.method} {request.url.path})",
                    hint="la réponse a été tronquée ou altérée en chemin: réessayez; si cela "
                    "persiste, un proxy ou un module abîme les réponses de la boutique",
                ) from None

        return await self._exchange("GET", path, params, None, None, expect, decode=decode)

    async def iter_pages(
        self, resource: str, query: Query | None = None, *, page_size: int = 500
    ) -> AsyncIterator[list[Record]]:
        """Every record, a page at a time, sorted by id so a stopped read resumes.

        Pages are cut by id (`filter[id]=>[last]`), not by offset, so records
        added or removed meanwhile neither shift nor repeat a page, and each page
        costs the shop's database the same (an offset is read through: the last
        pages of a big table would cost it the whole table each); a query that
        only asks for ids above N starts there. A query with its own sort, or
        another id filter, is cut by offset.
        """
        query = query or Query()
        start = query.filters["id"].above() if "id" in query.filters else 0
        if query.sort or start is None:
            async for page in self._pages_by_offset(resource, query, page_size):
                yield page
            return
        async for page in self._pages_by_id(resource, query, page_size, start):
            yield page

    async def _pages_by_offset(
        self, resource: str, query: Query, page_size: int
    ) -> AsyncIterator[list[Record]]:
        offset, previous = 0, None
        while True:
            limited = replace(query, sort=query.sort or ("id_ASC",), limit=(offset, page_size))
            page = await self.list(resource, limited)
            ids = [r.get("id") for r in page]
            if page and ids == previous:
                raise PagingStuck(
                    f"la boutique a renvoyé la même page de {resource} au décalage {offset} "
                    f"({self.base_url}/api/{resource})",
                    hint="un cache devant la boutique ignore la requête: excluez-en /api/",
                )
            previous = ids
            if page:
                yield page
            if len(page) < page_size:
                return
            offset += page_size

    async def _pages_by_id(
        self, resource: str, query: Query, page_size: int, last_id: int = 0
    ) -> AsyncIterator[list[Record]]:
        while True:
            filters = {**query.filters, "id": Filter.greater(last_id)}
            limited = replace(query, filters=filters, sort=("id_ASC",), limit=(0, page_size))
            page = await self.list(resource, limited)
            ids = [int(r["id"]) for r in page if str(r.get("id", "")).isdigit()]
            if ids and max(ids) <= last_id:
                raise PagingStuck(
                    f"la boutique a renvoyé {resource} jusqu'à l'id {max(ids)} alors que les ids "
                    f"au-delà de {last_id} étaient demandés ({self.base_url}/api/{resource})",
                    hint="un cache devant la boutique ignore la requête: excluez-en /api/",
                )
            if page:
                yield page  # (a record with no id is the flow's to refuse)
            if len(page) < page_size or not ids:
                return
            last_id = max(ids)

    async def ids(self, resource: str, filters: Mapping[str, Filter] | None = None) -> list[int]:
        records = await self.list(resource, Query(display=("id",), filters=filters or {}))
        return sorted(int(r["id"]) for r in records)

    async def get_many(
        self,
        resource: str,
        ids: Iterable[int | str],
        *,
        display: str | tuple[str, ...] = "full",
        batch_size: int = ID_BATCH,
        key: str = "id",
    ) -> list[Record]:
        """Records by id (or by another key, e.g. id_order or order_reference), a batch per
        request, in parallel."""
        values = {str(i) for i in ids if str(i) not in ("", "0")}
        if all(v.isdigit() for v in values):
            unique: list = sorted({int(v) for v in values})
        else:  # a reference: checked by the filter, which refuses [ ] | ,
            unique = sorted(values)
        batches = [unique[i : i + batch_size] for i in range(0, len(unique), batch_size)]
        pages = await asyncio.gather(
            *(
                self.list(resource, Query(display=display, filters={key: Filter.any_of(batch)}))
                for batch in batches
            )
        )
        return [record for page in pages for record in page]

    async def get(
        self,
        resource: str,
        record_id: int | str,
        *,
        language: int | None = None,
        complete: bool = False,
    ) -> Record:
        """One record; `complete` reads it in XML, where no empty field is left out."""
        json_format = not complete and await self._use_json()
        params = {"output_format": "JSON"} if json_format else {}
        if language is not None:
            params["language"] = str(language)
        return await self._read(f"{resource}/{int(record_id)}", params, json_format, many=False)

    async def schema(self, resource: str, kind: str = "synopsis") -> Schema:
        if kind not in ("blank", "synopsis"):
            raise ValueError("le schéma est blank ou synopsis")
        if (resource, kind) not in self._schemas:
            self._schemas[resource, kind] = await self._get(
                resource, {"schema": kind}, "xml", codec.decode_schema
            )
        return self._schemas[resource, kind]

    async def blank(self, resource: str) -> Record:
        return await self._read(resource, {"schema": "blank"}, False, many=False)

    async def head(self, resource: str = "") -> httpx.Headers:
        response = await self.request("HEAD", resource, expect="none")
        return response.headers

    # --- writing -------------------------------------------------------------------

    async def _writable(self, resource: str, record: Mapping[str, Any]) -> tuple[str, bytes]:
        schema = await self.schema(resource, "synopsis")
        body = codec.encode(
            schema.resource, record, association_items=schema.associations, omit=schema.read_only
        )
        return schema.resource, body

    async def create(
        self,
        resource: str,
        record: Mapping[str, Any],
        *,
        find_existing: Mapping[str, Filter] | None = None,
        look_first: bool = False,
    ) -> Record:
        """POST a full document; 201 gives the created record.

        A create that may have reached the shop (a timeout, a cut answer) is
        not blindly sent again: with `find_existing` (e.g. the reference),
        the shop is asked first whether the record now exists, and that one
        is returned instead of a duplicate. `look_first` asks before the
        first POST too: for a write that may be done again after a rollback.
        """
        if record.get("id"):
            raise ValueError("un enregistrement à créer n'a pas d'id")
        _, body = await self._writable(resource, record)
        if look_first and find_existing:
            found = await self.list(resource, Query(filters=find_existing))
            if len(found) == 1:
                return found[0]
        try:
            response = await self.request("POST", resource, content=body)
        except (ShopTimeout, ShopUnreachable, ShopBusy):
            if not find_existing:
                raise
            found = await self.list(resource, Query(filters=find_existing))
            if len(found) == 1:
                return found[0]
            response = await self.request("POST", resource, content=body)
        try:
            return codec.decode_one(response.content)
        except CodecError:
            # created (2xx) but the answer was damaged on its way: find it, never post again
            if find_existing:
                found = await self.list(resource, Query(filters=find_existing))
                if len(found) == 1:
                    return found[0]
            raise CodecError(
                f"la boutique a créé un enregistrement {resource} mais sa réponse était abîmée",
                hint="la prochaine lecture le retrouve par sa référence; rien n'est envoyé "
                "deux fois",
            ) from None

    async def update(self, resource: str, record_id: int, record: Mapping[str, Any]) -> Record:
        """PUT the whole record (read, modify, put: absent fields would be emptied).

        The id goes in the URL and the body, equal: the shop lets the body's win.
        """
        full = {**record, "id": str(int(record_id))}
        _, body = await self._writable(resource, full)
        response = await self.request("PUT", f"{resource}/{int(record_id)}", content=body)
        return codec.decode_one(response.content)

    async def patch(self, resource: str, record_id: int, changes: Mapping[str, Any]) -> Record:
        """Change a few fields: PATCH on 8+, read-modify-PUT before."""
        root = await self.ensure_connected()
        if not root.capabilities.patch:
            # read in XML: a JSON single GET leaves out the fields that are 0 or empty,
            # and a PUT without them would empty them or be refused
            current = await self.get(resource, record_id, complete=True)
            return await self.update(resource, record_id, {**current, **changes})
        schema = await self.schema(resource, "synopsis")
        body = codec.encode(schema.resource, {"id": str(int(record_id)), **changes})
        response = await self.request("PATCH", f"{resource}/{int(record_id)}", content=body)
        return codec.decode_one(response.content)

    async def delete(self, resource: str, record_id: int) -> None:
        await self.request("DELETE", f"{resource}/{int(record_id)}", expect="none")

    async def upload_image(
        self,
        product_id: int,
        content: bytes,
        filename: str = "image.jpg",
        mime: str = "image/jpeg",
    ) -> Record:
        response = await self.request(
            "POST",
            f"images/products/{int(product_id)}",
            files={"image": (filename, content, mime)},
        )
        return codec.decode_one(response.content)

    async def get_image(self, product_id: int, image_id: int) -> bytes:
        response = await self.request(
            "GET", f"images/products/{int(product_id)}/{int(image_id)}", expect="image"
        )
        if not response.headers.get("Content-Type", "").startswith("image/"):
            raise CodecError(f"l'image {image_id} du produit {product_id} n'est pas une image")
        return response.content


class SyncWebservice:
    """The same client for code that runs in a thread (Textual workers, the CLI)."""

    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self._async = self._run(self._make(*args, **kwargs))

    async def _make(self, *args, **kwargs) -> Webservice:
        return Webservice(*args, **kwargs)

    def _run(self, coroutine):
        return self._loop.run_until_complete(coroutine)

    @property
    def aio(self) -> Webservice:
        return self._async

    @property
    def requests_made(self) -> int:
        return self._async.requests_made

    @property
    def root(self) -> ShopRoot | None:
        return self._async.root

    def __repr__(self) -> str:
        return f"Sync{self._async!r}"

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self._async.aclose())
            self._loop.close()

    def __enter__(self) -> SyncWebservice:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def run(self, coroutine):
        """Run any coroutine of the async client, e.g. a gather of several reads."""
        return self._run(coroutine)

    def connect(self) -> ShopRoot:
        return self._run(self._async.connect())

    def ensure_connected(self) -> ShopRoot:
        return self._run(self._async.ensure_connected())

    def list(self, resource: str, query: Query | None = None) -> list[Record]:
        return self._run(self._async.list(resource, query))

    def iter_pages(
        self, resource: str, query: Query | None = None, *, page_size: int = 500
    ) -> Iterator[list[Record]]:
        pages = self._async.iter_pages(resource, query, page_size=page_size)
        while True:
            try:
                yield self._run(pages.__anext__())
            except StopAsyncIteration:
                return

    def ids(self, resource: str, filters=None) -> list[int]:
        return self._run(self._async.ids(resource, filters))

    def get_many(self, resource: str, ids, **kwargs) -> list[Record]:
        return self._run(self._async.get_many(resource, ids, **kwargs))

    def get(self, resource: str, record_id, **kwargs) -> Record:
        return self._run(self._async.get(resource, record_id, **kwargs))

    def schema(self, resource: str, kind: str = "synopsis") -> Schema:
        return self._run(self._async.schema(resource, kind))

    def blank(self, resource: str) -> Record:
        return self._run(self._async.blank(resource))

    def head(self, resource: str = "") -> httpx.Headers:
        return self._run(self._async.head(resource))

    def create(self, resource: str, record, **kwargs) -> Record:
        return self._run(self._async.create(resource, record, **kwargs))

    def update(self, resource: str, record_id: int, record) -> Record:
        return self._run(self._async.update(resource, record_id, record))

    def patch(self, resource: str, record_id: int, changes) -> Record:
        return self._run(self._async.patch(resource, record_id, changes))

    def delete(self, resource: str, record_id: int) -> None:
        return self._run(self._async.delete(resource, record_id))

    def upload_image(self, product_id: int, content: bytes, **kwargs) -> Record:
        return self._run(self._async.upload_image(product_id, content, **kwargs))

    def get_image(self, product_id: int, image_id: int) -> bytes:
        return self._run(self._async.get_image(product_id, image_id))


__all__ = ["PrestaShopError", "ShopRoot", "SyncWebservice", "Webservice"]
