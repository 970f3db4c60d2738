"""The codec reads every capture of a real PrestaShop 8.1.2, and writes what it reads."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_connector.prestashop import codec
from tui_connector.prestashop.codec import Translated
from tui_connector.prestashop.errors import CodecError

from .captures import CAPTURES, SETS, index_rows


def kind_of(row: dict) -> str:
    path = row["path"].split("?")[0].rstrip("/")
    query = row["path"].partition("?")[2]
    if int(row["status"]) >= 400:
        return "errors"
    if path in ("/api", "/webservice/dispatcher.php"):
        return "root"
    if "schema=" in query:
        return "schema"
    if path.startswith("/api/images"):
        return "image"
    last = path.rsplit("/", 1)[-1]
    if "display=" in query:  # even /products/20?display=full answers a list
        return "list"
    return "one" if last.isdigit() or row["method"] in ("POST", "PUT", "PATCH") else "list"


ROWS = [row for folder in SETS.values() for row in index_rows(folder) if row["file"].stat().st_size]


@pytest.mark.parametrize(("name", "least"), [("8.1.2", 200), ("8.1.2-orders", 250), ("9.0.0", 20)])
def test_the_captures_are_all_here(name, least):
    assert sum(row["set"] == name for row in ROWS) >= least


def capture_id(row: dict) -> str:
    return f"{row['set']}/{row['name']}.{'json' if row['json'] else 'xml'}"


@pytest.mark.parametrize("row", ROWS, ids=capture_id)
def test_every_capture_is_read(row):
    body = row["file"].read_bytes()
    kind = kind_of(row)
    if kind == "errors":
        errors = codec.decode_errors(body)
        if row["file"].suffix in (".xml", ".json") and body.strip()[:1] in (b"<", b"{"):
            assert errors and all(e.code > 0 and e.message for e in errors)
    elif kind == "list":
        records = codec.decode_list(body, json_format=row["json"])
        assert all(isinstance(r, dict) and r.get("id") for r in records)
    elif kind == "one":
        record = codec.decode_one(body, json_format=row["json"])
        assert record
    elif kind == "schema":
        if row["json"]:
            codec.decode_one(body, json_format=True)
        else:
            schema = codec.decode_schema(body)
            assert schema.fields
    elif kind in ("root", "image"):
        assert codec.parse_xml(body)["prestashop"]


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if kind_of(r) in ("list", "one")],
    ids=capture_id,
)
def test_every_record_survives_a_round_trip_through_the_writer(row):
    body = row["file"].read_bytes()
    if kind_of(row) == "list":
        records = codec.decode_list(body, json_format=row["json"])
    else:
        records = [codec.decode_one(body, json_format=row["json"])]
    for record in records[:50]:
        written = codec.encode("thing", record)
        assert codec.decode_one(written) == record


def test_xml_and_json_give_the_same_shapes():
    for name in (
        "products_full",
        "orders_full",
        "customers_full",
        "combinations_full",
        "addresses_full",
        "categories_full",
        "stock_availables_full",
    ):
        from_xml = codec.decode_list((CAPTURES / f"{name}.xml").read_bytes())
        from_json = codec.decode_list((CAPTURES / f"{name}.json").read_bytes(), json_format=True)
        assert len(from_xml) == len(from_json) > 0
        for x, j in zip(from_xml, from_json, strict=True):
            assert x == j, name


def test_one_record_in_a_list_is_still_a_list_and_associations_are_lists():
    one = b"""<?xml version="1.0"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">
    <products><product><id><![CDATA[7]]></id><associations>
    <categories nodeType="category" api="categories"><category xlink:href="x"><id>2</id>
    </category></categories><images nodeType="image" api="images"/></associations>
    </product></products></prestashop>"""
    records = codec.decode_list(one)
    assert records == [{"id": "7", "associations": {"categories": [{"id": "2"}]}}]


def test_translations_keep_every_language_and_give_the_one_asked():
    product = codec.decode_one((CAPTURES / "products_1.xml").read_bytes())
    name = product["name"]
    assert isinstance(name, Translated)
    assert name.text(2) == "T-shirt imprimé colibri"
    assert name.text(1) == "Hummingbird printed t-shirt"
    assert codec.text(name, 9) == "Hummingbird printed t-shirt"  # unknown language: the first
    single = codec.decode_list(b'{"products":[{"id":1,"name":"Pull"}]}', json_format=True)
    assert codec.text(single[0]["name"], 2) == "Pull"


def test_empty_values_and_zero_dates_read_as_empty():
    product = codec.decode_one((CAPTURES / "products_1.xml").read_bytes())
    assert product["available_date"] == ""  # 0000-00-00
    assert product["new"] == ""
    assert (
        codec.decode_list((CAPTURES / "customer_messages_list.json").read_bytes(), json_format=True)
        == []
    )
    assert codec.decode_list((CAPTURES / "customer_messages_list.xml").read_bytes()) == []


def test_ids_only_lists_give_ids():
    records = codec.decode_list((CAPTURES / "products_list.xml").read_bytes())
    assert [r["id"] for r in records[:3]] == ["1", "2", "3"]


def test_synopsis_says_what_is_required_and_read_only():
    schema = codec.decode_schema((CAPTURES / "products_schema_synopsis.xml").read_bytes())
    assert schema.resource == "product"
    assert "price" in schema.required
    assert schema.fields["manufacturer_name"].read_only
    assert schema.fields["quantity"].read_only
    assert schema.fields["name"].translatable
    assert schema.fields["reference"].max_size == 64
    assert schema.associations["categories"] == "category"
    assert schema.associations["product_option_values"] == "product_option_value"


def test_writer_drops_read_only_fields_and_names_association_items():
    product = codec.decode_one((CAPTURES / "products_1.xml").read_bytes())
    schema = codec.decode_schema((CAPTURES / "products_schema_synopsis.xml").read_bytes())
    omit = [n for n, s in schema.fields.items() if s.read_only]
    body = codec.encode("product", product, association_items=schema.associations, omit=omit)
    assert b"<manufacturer_name>" not in body and b"<quantity>" not in body
    assert b'<name><language id="1">Hummingbird printed t-shirt</language>' in body
    assert b"<categories><category><id>2</id></category>" in body
    assert b'xmlns:xlink="http://www.w3.org/1999/xlink"' in body


def test_errors_are_read_from_xml_and_json():
    xml_errors = codec.decode_errors((CAPTURES / "error_wrong_key.xml").read_bytes())
    assert [e.code for e in xml_errors] == [20, 21]
    json_errors = codec.decode_errors((CAPTURES / "error_bad_filter_field.json").read_bytes())
    assert json_errors[0].code == 32 and "filter does not exist" in json_errors[0].message
    assert codec.decode_errors(b"") == []
    assert codec.decode_errors(b"401 Unauthorized") == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<prestashop><products>",
        b"<html><body>Not Acceptable</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<prestashop><product><id>&b;</id></product></prestashop>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<prestashop><product><id>&e;</id></product></prestashop>",
        "<prestashop><product><id>1</id></product></prestashop>".encode("utf-16")[:-3],
    ],
)
def test_bad_xml_raises_only_codec_errors(body):
    with pytest.raises(CodecError):
        codec.decode_one(body)


def test_entities_are_never_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "AAAAAAAAAA">]>'
        b"<prestashop><product><id>&a;</id></product></prestashop>"
    )
    with pytest.raises(CodecError):
        codec.decode_one(bomb)


TRUNCATABLE = [CAPTURES / n for n in ("orders_full.xml", "products_1.xml", "orders_full.json")]


@st.composite
def truncated(draw) -> tuple[bytes, bool]:
    """A capture cut anywhere before its last character (a trailing newline cut away
    leaves the whole document, which is not a truncation)."""
    path = draw(st.sampled_from(TRUNCATABLE))
    body = path.read_bytes()
    cut = draw(st.integers(min_value=0, max_value=len(body.rstrip()) - 1))
    return body[:cut], path.suffix == ".json"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(truncated())
def test_truncated_answers_give_codec_errors(case):
    cut, json_format = case
    with pytest.raises(CodecError):
        codec.decode_list(cut, json_format=json_format)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_never_crash_the_codec(body):
    for decode in (
        lambda b: codec.decode_list(b),
        lambda b: codec.decode_one(b),
        lambda b: codec.decode_list(b, json_format=True),
        lambda b: codec.decode_one(b, json_format=True),
        codec.decode_schema,
    ):
        with contextlib.suppress(CodecError):
            decode(body)
    codec.decode_errors(body)  # never raises at all
