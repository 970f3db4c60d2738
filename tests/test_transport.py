"""The transport's decisions on their own: `classify` on the real shops' answers (with their
status and headers as captured), the retry policy, Retry-After, and the ws_key fallback's
trigger. No network: every case is a status, headers and a body."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from tui_connector.prestashop import errors
from tui_connector.prestashop.transport import (
    Asked,
    RetryPolicy,
    basic_auth_refused,
    classify,
    failure,
    retry_after,
)

from .captures import CAPTURES, ORDERS, SETS, V9, index_rows

URL = "https://shop.example"
XML = {"Content-Type": "text/xml;charset=utf-8"}


def captured(path) -> tuple[int, dict[str, str], bytes]:
    """A capture's status, headers and body, as the shop sent them."""
    lines = path.with_name(path.name + ".headers").read_text(encoding="utf-8").splitlines()
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if value:
            headers[name.strip()] = value.strip()
    return int(lines[0].split()[1]), headers, path.read_bytes()


PRODUCTS = Asked("GET", "products", URL)


def classified(path, asked: Asked = PRODUCTS, **kwargs):
    return classify(*captured(path), asked, **kwargs)


# --- the real shops' errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("capture", "kind", "said"),
    [
        (CAPTURES / "error_wrong_key.xml", errors.AuthenticationFailed, "refusé la clé API"),
        (CAPTURES / "error_wrong_key.json", errors.AuthenticationFailed, "[20]"),
        (CAPTURES / "error_no_key.txt", errors.AuthenticationFailed, "aucune clé reçue"),
        (V9 / "error_wrong_key.xml", errors.AuthenticationFailed, "refusé la clé API"),
        (CAPTURES / "error_not_found_id.xml", errors.NotFound, "n'a pas products"),
        (CAPTURES / "error_not_found_id.json", errors.NotFound, "n'a pas products"),
        (V9 / "err_orders_999", errors.NotFound, "n'a pas products"),
        (CAPTURES / "error_unknown_resource.xml", errors.UnknownResource, "'products'"),
        (CAPTURES / "error_unknown_resource.json", errors.UnknownResource, "'products'"),
        (CAPTURES / "error_bad_filter_field.xml", errors.ShopRejected, "[32] This filter"),
        (CAPTURES / "error_bad_sort.xml", errors.ShopRejected, "[38]"),
        (V9 / "error_bad_filter_field.xml", errors.ShopRejected, "(statut 500): [32]"),
        (ORDERS / "orders_bad_filter_field.json", errors.ShopRejected, "(statut 500): [32]"),
        (CAPTURES / "error_put_malformed_xml.xml", errors.ShopRejected, "[127]"),
        (CAPTURES / "error_post_empty_body.xml", errors.ShopRejected, "(statut 500)"),
        (CAPTURES / "error_post_invalid_value.xml", errors.ShopRejected, "(statut 400)"),
        (ORDERS / "limited_messages.xml", errors.PermissionDenied, "le droit GET sur products"),
        (ORDERS / "limited_order_details.json", errors.PermissionDenied, "le droit GET"),
        (CAPTURES / "error_delete_on_api_root_500.xml", errors.ShopBusy, "échoue toujours"),
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_each_real_error_has_its_type_and_message(capture, kind, said):
    error = classified(capture)
    assert type(error) is kind
    assert said in error.message
    assert error.status == captured(capture)[0] or kind is errors.ShopUnreachable


REAL_ANSWERS = [
    row
    for folder in SETS.values()
    for row in index_rows(folder)
    if row["file"].with_name(row["file"].name + ".headers").exists()
]


@pytest.mark.parametrize("row", REAL_ANSWERS, ids=lambda row: f"{row['set']}/{row['file'].name}")
def test_every_real_answer_is_usable_or_an_error_never_both(row):
    status, headers, body = captured(row["file"])
    expect = "json" if row["json"] else "xml"
    error = classify(status, headers, body, Asked(row["method"], "products", URL, expect))
    assert (error is None) == (200 <= status < 300), (status, error)
    if error is not None:
        assert error.message and "<KEY>" not in error.message


def test_the_codes_decide_not_the_status():
    """9.0.0 (and the second 8.1.2 shop) say 500 for a bad filter: not a hiccup to retry."""
    policy = RetryPolicy(retries=3)
    for capture in (V9 / "error_bad_filter_field.xml", CAPTURES / "error_bad_filter_field.xml"):
        error = classified(capture)
        assert isinstance(error, errors.ShopRejected) and 32 in error.codes
        assert not policy.retries_answer(error.status, error, idempotent=True, attempt=0)


# --- what no capture holds: pages of hosts, proxies and firewalls -------------------------

MOD_SECURITY = b"<html><head><title>Not Acceptable!</title></head><body>mod_security</body></html>"
MAINTENANCE = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
PHP_FATAL = b"<br />\n<b>Fatal error</b>:  Uncaught Error: Call to a member function x() on null"
DISABLED = (
    b'<?xml version="1.0"?><prestashop><errors><error><code><![CDATA[22]]></code>'
    b"<message><![CDATA[The PrestaShop webservice is disabled.]]></message></error>"
    b"</errors></prestashop>"
)


def error_doc(code: int, message: str) -> bytes:
    return (
        f'<?xml version="1.0"?><prestashop><errors><error><code>{code}</code>'
        f"<message>{message}</message></error></errors></prestashop>"
    ).encode()


HTML = {"Content-Type": "text/html"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "asked", "kind", "said"),
    [
        (406, HTML, MOD_SECURITY, Asked("GET", "orders"), errors.SecurityFilterPage, "Not Accept"),
        (403, HTML, MOD_SECURITY, Asked("GET", "orders"), errors.SecurityFilterPage, "HTML"),
        (200, HTML, MOD_SECURITY, Asked("GET", "orders"), errors.SecurityFilterPage, "au lieu de"),
        (200, XML, MAINTENANCE, Asked("GET", "orders"), errors.SecurityFilterPage, "au lieu de"),
        (503, HTML, MAINTENANCE, Asked("GET", "orders"), errors.SecurityFilterPage, "statut 503"),
        (503, XML, DISABLED, Asked("GET", ""), errors.WebserviceDisabled, "désactivé"),
        (401, XML, DISABLED, Asked("GET", ""), errors.WebserviceDisabled, "désactivé"),
        (500, HTML, PHP_FATAL, Asked("GET", "orders"), errors.PhpFailed, "Fatal error: Uncaught"),
        (503, {}, b"", Asked("GET", "orders"), errors.ShopBusy, "(statut 503)"),
        (429, {"Retry-After": "7"}, b"", Asked("GET", "orders"), errors.ShopBusy, "statut 429"),
        (502, HTML, b"", Asked("PUT", "products/1"), errors.ShopBusy, "PUT /api/products/1"),
        (
            405,
            XML,
            error_doc(16, "Method GET is not allowed for this resource"),
            Asked("GET", "orders"),
            errors.PermissionDenied,
            "n'autorise pas GET /api/orders: [16]",
        ),
        (
            401,
            XML,
            error_doc(21, "No permission for this authentication key"),
            Asked("DELETE", "orders/1"),
            errors.PermissionDenied,
            "le droit DELETE sur orders",
        ),
        (404, HTML, b"<html>Not found</html>", Asked("GET", ""), errors.ShopUnreachable, "/api/"),
        (
            301,
            {"Location": "https://www.shop.example/api/"},
            b"",
            Asked("GET", ""),
            errors.ShopUnreachable,
            "vers https://www.shop.example/api/",
        ),
    ],
)
def test_pages_and_statuses_the_captures_do_not_hold(status, headers, body, asked, kind, said):
    error = classify(status, headers, body, asked)
    assert type(error) is kind
    assert said in error.message


def test_a_2xx_is_usable_unless_it_is_a_page_where_data_was_expected():
    assert classify(200, XML, (CAPTURES / "api_root.xml").read_bytes()) is None
    assert classify(201, XML, b"<prestashop/>") is None
    assert classify(200, {}, b"") is None  # a DELETE or HEAD answers nothing
    assert classify(200, HTML, MOD_SECURITY, Asked(expect="image")) is None
    assert classify(200, HTML, MOD_SECURITY, Asked(expect="none")) is None


def test_header_names_are_read_in_any_case():
    error = classify(406, {"content-type": "text/html"}, b"<h1>Blocked by the firewall</h1>")
    assert isinstance(error, errors.SecurityFilterPage)
    moved = classify(302, {"location": "https://shop.example/fr/api/"}, b"")
    assert "https://shop.example/fr/api/" in moved.message


def test_a_busy_shop_says_how_often_it_was_asked_again():
    assert "après 3 nouvelles tentatives" in classify(503, {}, b"", retried=3).message
    assert "tentatives" not in classify(503, {}, b"", Asked("POST", "orders")).message


# --- the ws_key fallback's trigger ---------------------------------------------------------


@pytest.mark.parametrize(
    ("capture", "tried"),
    [
        (CAPTURES / "error_no_key.txt", True),  # what a host that strips the header gives
        (CAPTURES / "error_wrong_key.xml", True),
        (ORDERS / "limited_messages.xml", False),  # the key is right: a resource not ticked
        (CAPTURES / "error_unknown_resource.xml", False),
        (CAPTURES / "error_not_found_id.xml", False),
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_which_refusals_try_the_key_in_the_url(capture, tried):
    assert basic_auth_refused(classified(capture)) is tried


def test_a_disabled_webservice_is_not_a_key_to_try_again():
    assert not basic_auth_refused(classify(401, XML, DISABLED))


# --- the retry policy -----------------------------------------------------------------------


def busy(status: int, body: bytes = b"", headers=None) -> errors.PrestaShopError:
    return classify(status, headers or {}, body, Asked("GET", "orders"))


@pytest.mark.parametrize(
    ("status", "body", "idempotent", "retried"),
    [
        (429, b"", True, True),
        (429, b"", False, True),  # refused before anything was done: a POST too
        (503, b"", True, True),
        (503, b"", False, False),  # a POST the shop may have done
        (502, MAINTENANCE, True, True),  # a proxy's page for a shop that is down
        (504, b"", True, True),
        (500, b"", True, True),  # an empty 500: a hiccup
        (500, b"", False, False),
        (500, PHP_FATAL, True, False),  # PHP would fail the same way again
        (500, (CAPTURES / "error_put_malformed_xml.xml").read_bytes(), True, False),
        (503, DISABLED, True, False),  # switched off in the back office
        (400, (CAPTURES / "error_bad_filter_field.xml").read_bytes(), True, False),
        (404, b"", True, False),
    ],
)
def test_which_answers_are_sent_again(status, body, idempotent, retried):
    policy = RetryPolicy(retries=3)
    error = busy(status, body, HTML if body.startswith(b"<!") else XML)
    assert policy.retries_answer(status, error, idempotent=idempotent, attempt=0) is retried
    assert not policy.retries_answer(status, error, idempotent=idempotent, attempt=3)


def test_a_damaged_answer_is_asked_again_by_a_read_only():
    policy = RetryPolicy(retries=2)
    damaged = errors.CodecError("XML mal formé")
    assert policy.retries_answer(200, damaged, idempotent=True, attempt=1)
    assert not policy.retries_answer(200, damaged, idempotent=False, attempt=0)
    assert not policy.retries_answer(200, damaged, idempotent=True, attempt=2)


@pytest.mark.parametrize(
    ("exc", "idempotent", "retried", "kind"),
    [
        (httpx.ConnectError("refused"), False, True, errors.ShopUnreachable),
        (httpx.ConnectTimeout("slow"), False, True, errors.ShopUnreachable),
        (httpx.ReadTimeout("slow"), True, True, errors.ShopTimeout),
        (httpx.ReadTimeout("slow"), False, False, errors.ShopTimeout),
        (httpx.RemoteProtocolError("cut"), True, True, errors.ShopUnreachable),
        (httpx.RemoteProtocolError("cut"), False, False, errors.ShopUnreachable),
        (httpx.UnsupportedProtocol("ftp"), True, False, errors.ShopUnreachable),
    ],
)
def test_failures_without_an_answer(exc, idempotent, retried, kind):
    policy = RetryPolicy(retries=1)
    assert policy.retries_failure(exc, idempotent=idempotent, attempt=0) is retried
    assert not policy.retries_failure(exc, idempotent=idempotent, attempt=1)
    assert type(failure(exc, Asked("POST", "orders", URL), 30.0)) is kind


def test_failures_say_what_to_fix():
    asked = Asked("GET", "orders", URL)
    assert "DNS" in failure(httpx.ConnectError("Name or service not known"), asked, 30).message
    assert "TLS" in failure(httpx.ConnectError("CERTIFICATE_VERIFY_FAILED"), asked, 30).message
    assert "en 30 s (ReadTimeout)" in failure(httpx.ReadTimeout(""), asked, 30).message


def test_backoff_doubles_with_jitter_and_stops_at_its_ceiling():
    low = RetryPolicy(backoff=0.5, max_backoff=30.0, jitter=lambda a, b: a)
    high = RetryPolicy(backoff=0.5, max_backoff=30.0, jitter=lambda a, b: b)
    assert [low.delay(n) for n in range(4)] == [0.25, 0.5, 1.0, 2.0]
    assert [high.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert high.delay(20) == 30.0


def test_retry_after_is_honoured_and_bounded():
    policy = RetryPolicy()
    assert policy.delay(0, retry_after("7")) == 7.0
    assert policy.delay(5, retry_after(" 3 ")) == 3.0
    assert policy.delay(0, retry_after("86400")) == 120.0  # a day is not waited for
    later = dt.datetime(2026, 12, 3, 12, 0, 30, tzinfo=dt.UTC)
    now = dt.datetime(2026, 12, 3, 12, 0, 0, tzinfo=dt.UTC).timestamp()
    assert retry_after(email.utils.format_datetime(later, usegmt=True), lambda: now) == 30.0
    assert retry_after(email.utils.format_datetime(later, usegmt=True), lambda: now + 60) == 0
    assert retry_after(None) is None and retry_after("soon") is None
