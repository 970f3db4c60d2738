"""The Webservice client against recorded answers (respx): every error path, retries, paging."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from tui_connector.config import Secret
from tui_connector.prestashop import errors
from tui_connector.prestashop.client import SyncWebservice, Webservice
from tui_connector.prestashop.query import Filter, Query

from .captures import CAPTURES

URL = "https://shop.example"
KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ROOT_XML = (CAPTURES / "api_root.xml").read_bytes()
XML = {"Content-Type": "text/xml;charset=utf-8", "PSWS-Version": "8.1.2"}
JSON = {"Content-Type": "application/json", "PSWS-Version": "8.1.2"}


def capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def shop(sleeps):
    notices: list[str] = []
    client = Webservice(URL, Secret(KEY), sleep=sleeps, on_notice=notices.append, retries=3)
    client.notices = notices
    return client


@pytest.fixture
def mock():
    with respx.mock(base_url=URL, assert_all_called=False) as router:
        router.get("/api/").mock(return_value=httpx.Response(200, headers=XML, content=ROOT_XML))
        yield router


async def test_connect_reads_version_and_permissions(shop, mock):
    root = await shop.connect()
    assert root.capabilities.label == "8.1.2"
    assert root.capabilities.json_output and root.capabilities.patch
    assert root.allows("products", "put") and root.allows("orders", "get")
    request = mock.calls.last.request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "output_format" not in str(request.url)  # the real shop crashes on a JSON root


async def test_lists_use_json_and_give_the_same_records_as_xml(shop, mock):
    route = mock.get("/api/products").mock(
        return_value=httpx.Response(200, headers=JSON, content=capture("products_full.json"))
    )
    records = await shop.list("products", Query(display="full"))
    assert len(records) == 19 and records[0]["reference"] == "demo_1"
    params = route.calls.last.request.url.params
    assert params["output_format"] == "JSON" and params["display"] == "full"


async def test_batches_of_ids_in_parallel(shop, mock):
    seen = []

    def answer(request):
        ids = request.url.params["filter[id]"].strip("[]").split("|")
        seen.append(len(ids))
        body = '{"orders":[' + ",".join(f'{{"id":{i}}}' for i in ids) + "]}"
        return httpx.Response(200, headers=JSON, content=body.encode())

    mock.get("/api/orders").mock(side_effect=answer)
    records = await shop.get_many("orders", range(1, 251), display=("id",))
    assert sorted(int(r["id"]) for r in records) == list(range(1, 251))
    assert sorted(seen) == [50, 100, 100]


def paged_by_id(resource: str, last: int, calls: list[str]):
    """A shop answering `resource` ids up to `last`, 3 past the filter's id a page, and
    noting the filters asked for (a page asked for by offset fails the test)."""

    def answer(request):
        assert request.url.params.get("limit", "0,").startswith("0,")
        calls.append(request.url.params["filter[id]"])
        after = int(request.url.params["filter[id]"].strip(">[]"))
        ids = list(range(after + 1, last + 1))[:3]
        body = f'{{"{resource}":[' + ",".join(f'{{"id":{i}}}' for i in ids) + "]}"
        return httpx.Response(200, headers=JSON, content=body.encode())

    return answer


async def test_pages_are_cut_by_id_so_a_read_resumes(shop, mock):
    calls = []
    mock.get("/api/customers").mock(side_effect=paged_by_id("customers", 7, calls))
    pages = [page async for page in shop.iter_pages("customers", page_size=3)]
    assert [[r["id"] for r in p] for p in pages] == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    assert calls == [">[0]", ">[3]", ">[6]"]


async def test_records_above_an_id_are_paged_by_id_from_there(shop, mock):
    """What changed since a cursor (order_histories past 1,000): each page asks past the
    last id seen, never for an offset the shop's database would read through."""
    calls = []
    answer = paged_by_id("order_histories", 1007, calls)
    mock.get("/api/order_histories").mock(side_effect=answer)
    query = Query(filters={"id": Filter.greater(1000)})
    pages = [page async for page in shop.iter_pages("order_histories", query, page_size=3)]
    assert [int(r["id"]) for p in pages for r in p] == list(range(1001, 1008))
    assert calls == [">[1000]", ">[1003]", ">[1006]"]


def test_queries_are_validated_and_dates_get_date_1():
    params = Query(
        filters={"date_upd": Filter.between("2026-01-01", "2026-01-31")},
        sort=("date_upd_ASC", "id_ASC"),
        limit=(0, 50),
    ).params()
    assert params["date"] == "1"
    assert params["filter[date_upd]"] == "[2026-01-01,2026-01-31]"
    assert params["sort"] == "[date_upd_ASC,id_ASC]"
    assert Query(filters={"name": Filter.contains("mug")}).params()["filter[name]"] == "%[mug]%"
    for bad in ("a]|[b", "x,y", "1|2"):
        with pytest.raises(errors.BadQuery, match="échapper"):
            Filter.equals(bad)
    with pytest.raises(errors.BadQuery):
        Query(limit=(0, 0)).params()
    with pytest.raises(errors.BadQuery):
        Query(filters={"id]=1&x[": Filter.equals(1)}).params()
    with pytest.raises(errors.BadQuery):
        Query(sort=("id",)).params()


async def test_wrong_key(shop, mock):
    mock.get("/api/").mock(
        return_value=httpx.Response(
            401, headers={**XML, "PSWS-Version": "0"}, content=capture("error_wrong_key.xml")
        )
    )
    with pytest.raises(errors.AuthenticationFailed) as caught:
        await shop.connect()
    assert "refusé la clé API" in str(caught.value) and KEY not in str(caught.value)
    assert caught.value.exit_code == 3


async def test_stripped_authorization_header_switches_to_ws_key(shop, mock):
    def answer(request):
        if request.url.params.get("ws_key") == KEY:
            return httpx.Response(200, headers=XML, content=ROOT_XML)
        return httpx.Response(
            401, headers={"Content-Type": "text/html"}, content=b"401 Unauthorized"
        )

    mock.get("/api/").mock(side_effect=answer)
    root = await shop.connect()
    assert root.capabilities.label == "8.1.2"
    assert shop.auth_mode == "ws_key"
    assert any(
        "RewriteRule" in notice and "HTTP_AUTHORIZATION" in notice for notice in shop.notices
    )
    assert all(KEY not in notice for notice in shop.notices)


async def test_the_key_in_the_url_is_tried_once_and_only_where_it_works(shop, mock):
    def stripped(request):
        if request.url.params.get("ws_key") == KEY:
            return httpx.Response(200, headers=JSON, content=b'{"taxes":[{"id":1}]}')
        return httpx.Response(401, headers={"Content-Type": "text/html"}, content=b"401")

    await shop.connect()
    mock.get("/api/").mock(side_effect=stripped)  # the probe of the key in the URL
    taxes = mock.get("/api/taxes").mock(side_effect=stripped)
    assert await shop.list("taxes") == [{"id": "1"}]  # the refused read, sent again
    assert shop.auth_mode == "ws_key" and taxes.call_count == 2
    assert "Authorization" not in taxes.calls.last.request.headers

    refused = Webservice(URL, KEY, sleep=shop._sleep, on_notice=shop.notices.append)
    mock.get("/api/").mock(
        return_value=httpx.Response(401, headers=XML, content=capture("error_wrong_key.xml"))
    )
    with pytest.raises(errors.AuthenticationFailed, match="refusé la clé API"):
        await refused.connect()
    assert refused.auth_mode == "basic"  # a wrong key is wrong in the URL too


async def test_webservice_disabled(shop, mock, sleeps):
    body = (
        b'<?xml version="1.0"?><prestashop><errors><error><code><![CDATA[22]]></code>'
        b"<message><![CDATA[The PrestaShop webservice is disabled.]]></message></error>"
        b"</errors></prestashop>"
    )
    mock.get("/api/").mock(return_value=httpx.Response(503, headers=XML, content=body))
    with pytest.raises(errors.WebserviceDisabled, match="désactivé") as caught:
        await shop.connect()
    assert "Paramètres avancés" in caught.value.hint
    assert sleeps == []  # a switch in the back office: asking again would not turn it on


async def test_permission_denied_names_the_resource(shop, mock):
    mock.get("/api/orders").mock(
        return_value=httpx.Response(
            405,
            headers=XML,
            content=(
                b'<?xml version="1.0"?><prestashop><errors><error><code>16</code><message>'
                b"Method GET is not allowed for this resource</message></error>"
                b"</errors></prestashop>"
            ),
        )
    )
    await shop.connect()
    with pytest.raises(errors.PermissionDenied, match="/api/orders"):
        await shop.list("orders")


async def test_unknown_resource(shop, mock):
    mock.get("/api/foobars").mock(
        return_value=httpx.Response(
            400, headers=JSON, content=capture("error_unknown_resource.json")
        )
    )
    with pytest.raises(errors.UnknownResource, match="foobars"):
        await shop.list("foobars")


async def test_bad_filter_is_a_shop_rejection_with_its_message(shop, mock):
    mock.get("/api/products").mock(
        return_value=httpx.Response(
            400, headers=JSON, content=capture("error_bad_filter_field.json")
        )
    )
    with pytest.raises(errors.ShopRejected, match=r"\[32\] This filter does not exist"):
        await shop.list("products", Query(filters={"nonexistent_field": Filter.equals(1)}))


async def test_unknown_id_is_not_found(shop, mock):
    mock.get("/api/products/999999").mock(return_value=httpx.Response(404, content=b""))
    with pytest.raises(errors.NotFound, match="products/999999"):
        await shop.get("products", 999999)


@pytest.mark.parametrize("status", [403, 406, 501, 200])
async def test_html_security_page_is_named(shop, mock, status):
    page = b"<html><head><title>Not Acceptable!</title></head><body>mod_security</body></html>"
    mock.get("/api/orders").mock(
        return_value=httpx.Response(status, headers={"Content-Type": "text/html"}, content=page)
    )
    with pytest.raises(errors.SecurityFilterPage, match="Not Acceptable!") as caught:
        await shop.list("orders")
    assert "filtre de sécurité" in caught.value.hint


async def test_malformed_xml_says_so(shop, mock):
    shop.prefer_json = False
    mock.get("/api/orders").mock(
        return_value=httpx.Response(200, headers=XML, content=capture("orders_full.xml")[:5000])
    )
    with pytest.raises(errors.CodecError, match="XML mal formé"):
        await shop.list("orders")


async def test_retries_429_503_with_backoff_and_retry_after(shop, mock, sleeps):
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(200, headers=JSON, content=b'{"orders":[{"id":1}]}'),
        ]
    )
    mock.get("/api/orders").mock(side_effect=lambda request: next(answers))
    assert await shop.list("orders") == [{"id": "1"}]
    assert sleeps[0] == 7.0  # Retry-After honoured
    assert 0.25 <= sleeps[1] <= 1.0 and 0.5 <= sleeps[2] <= 2.0  # exponential, jittered


async def test_a_cut_schema_is_asked_again_like_any_read(shop, mock, sleeps):
    whole = capture("products_schema_synopsis.xml")
    answers = iter([whole[: len(whole) // 2], whole])
    route = mock.get("/api/products", params={"schema": "synopsis"}).mock(
        side_effect=lambda request: httpx.Response(200, headers=XML, content=next(answers))
    )
    schema = await shop.schema("products")
    assert "price" in schema.required and route.call_count == 2 and len(sleeps) == 1


async def test_gives_up_after_the_retries_with_a_clear_error(shop, mock, sleeps):
    await shop.connect()
    route = mock.get("/api/orders").mock(return_value=httpx.Response(503))
    with pytest.raises(errors.ShopBusy, match=r"échoue toujours.* après 3 nouvelles tentatives"):
        await shop.list("orders")
    assert route.call_count == 4  # the first try and 3 retries
    assert len(sleeps) == 3


async def test_connection_errors_and_timeouts(shop, mock, sleeps):
    await shop.connect()
    mock.get("/api/orders").mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(errors.ShopUnreachable, match="impossible de joindre la boutique"):
        await shop.list("orders")
    mock.get("/api/carts").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.ShopTimeout, match="n'a pas répondu"):
        await shop.list("carts")
    flaky = iter([httpx.ConnectError("x"), httpx.Response(200, headers=JSON, content=b"[]")])

    def answer(request):
        item = next(flaky)
        if isinstance(item, Exception):
            raise item
        return item

    mock.get("/api/taxes").mock(side_effect=answer)
    assert await shop.list("taxes") == []


async def test_a_post_is_not_blindly_retried(shop, mock, sleeps):
    await shop.connect()
    mock.get("/api/products", params={"schema": "synopsis"}).mock(
        return_value=httpx.Response(
            200, headers=XML, content=capture("products_schema_synopsis.xml")
        )
    )
    post = mock.post("/api/products").mock(return_value=httpx.Response(503))
    with pytest.raises(errors.ShopBusy):
        await shop.create("products", {"price": "1.000000", "reference": "NEW-1"})
    assert post.call_count == 1

    # with a way to find it, a create that may have happened is looked up, not repeated
    post.mock(side_effect=httpx.ReadTimeout("slow"))
    lookup = mock.get("/api/products", params={"filter[reference]": "[NEW-1]"}).mock(
        return_value=httpx.Response(200, headers=JSON, content=b'{"products":[{"id":42}]}')
    )
    created = await shop.create(
        "products",
        {"price": "1.000000", "reference": "NEW-1"},
        find_existing={"reference": Filter.equals("NEW-1")},
    )
    assert created["id"] == "42" and post.call_count == 2 and lookup.called


async def test_update_strips_read_only_fields_and_sends_the_id_twice(shop, mock):
    await shop.connect()
    mock.get("/api/products", params={"schema": "synopsis"}).mock(
        return_value=httpx.Response(
            200, headers=XML, content=capture("products_schema_synopsis.xml")
        )
    )
    put = mock.put("/api/products/20").mock(
        return_value=httpx.Response(200, headers=XML, content=capture("products_PUT_updated.xml"))
    )
    from tui_connector.prestashop import codec

    product = codec.decode_one(capture("products_GET_for_put.xml"))
    await shop.update("products", 20, {**product, "price": "12.000000"})
    body = put.calls.last.request.content
    assert b"<manufacturer_name>" not in body and b"<quantity>" not in body
    assert b"<id>20</id>" in body and b"<price>12.000000</price>" in body


async def test_patch_on_8_and_put_before(sleeps, mock):
    old_root = ROOT_XML
    mock.get("/api/").mock(
        return_value=httpx.Response(
            200, headers={**XML, "PSWS-Version": "1.6.1.24"}, content=old_root
        )
    )
    old = Webservice(URL, KEY, sleep=sleeps)
    mock.get("/api/stock_availables/59").mock(
        return_value=httpx.Response(
            200, headers=XML, content=capture("stock_availables_59_before.xml")
        )
    )
    mock.get("/api/stock_availables", params={"schema": "synopsis"}).mock(
        return_value=httpx.Response(
            200, headers=XML, content=capture("stock_availables_schema_synopsis.xml")
        )
    )
    put = mock.put("/api/stock_availables/59").mock(
        return_value=httpx.Response(
            200, headers=XML, content=capture("stock_availables_PUT_59.xml")
        )
    )
    await old.patch("stock_availables", 59, {"quantity": "7"})
    assert put.called and b"<quantity>7</quantity>" in put.calls.last.request.content
    assert b"<id_product>" in put.calls.last.request.content  # the whole record went back


async def test_old_shops_are_refused(sleeps, mock):
    mock.get("/api/").mock(
        return_value=httpx.Response(
            200, headers={**XML, "PSWS-Version": "1.4.11"}, content=ROOT_XML
        )
    )
    with pytest.raises(errors.UnsupportedVersion, match=r"antérieur à 1\.5"):
        await Webservice(URL, KEY, sleep=sleeps).connect()


async def test_gentle_mode_spaces_requests(sleeps, mock):
    client = Webservice(URL, KEY, sleep=sleeps, max_rate=5)
    mock.get("/api/taxes").mock(return_value=httpx.Response(200, headers=JSON, content=b"[]"))
    for _ in range(4):
        await client.list("taxes")
    assert sum(sleeps) >= 0.5  # 5 requests at 5 per second take most of a second


def test_plain_http_to_a_remote_host_is_warned():
    notices = []
    Webservice("http://shop.example", KEY, on_notice=notices.append)
    Webservice("http://127.0.0.1:8080", KEY, on_notice=notices.append)
    assert len(notices) == 1 and "en clair" in notices[0]


async def test_the_key_never_leaks(shop, mock, caplog):
    caplog.set_level(logging.DEBUG)
    shop.auth_mode = "ws_key"
    mock.get("/api/orders").mock(
        return_value=httpx.Response(401, headers=XML, content=capture("error_wrong_key.xml"))
    )
    with pytest.raises(errors.AuthenticationFailed) as caught:
        await shop.list("orders")
    assert KEY not in repr(shop) and KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert KEY not in caplog.text


def test_sync_face_for_thread_workers(mock):
    mock.get("/api/orders").mock(
        return_value=httpx.Response(200, headers=JSON, content=capture("orders_full.json"))
    )
    with SyncWebservice(URL, KEY) as client:
        orders = client.list("orders")
        assert orders[0]["reference"] == "XKBKNABJK"
        assert client.requests_made == 2  # the root, then the list
