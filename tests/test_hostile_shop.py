"""Hostile shops on loopback, each bounded in time: a shop or proxy that drips its
answer, an answer of gigabytes, a cache that sends the same page whatever is asked.
Each ends with a clear message, quickly, nothing kept from it."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.errors import AnswerTooLarge, PagingStuck, ShopTimeout

ROOT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><api shopName="x">'
    b'<customers get="true"/></api></prestashop>'
)


def _page(first: int, count: int) -> bytes:
    records = ",".join(f'{{"id":{i},"lastname":"N{i}"}}' for i in range(first, first + count))
    return f'{{"customers":[{records}]}}'.encode()


class Hostile(http.server.BaseHTTPRequestHandler):
    behaviour = "drip"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") == "/api":
            self._send(ROOT, "text/xml")
            return
        if self.behaviour == "drip":  # a byte every 0.2 s, for ever
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return
        if self.behaviour == "huge":  # far more than any page
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b" " * 2**20)
            except OSError:
                return
        if self.behaviour == "same_page":  # a cache that ignores the id filter
            self._send(_page(1, 500), "application/json")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("PSWS-Version", "8.1.2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile():
    def start(behaviour: str):
        handler = type("Handler", (Hostile,), {"behaviour": behaviour})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    started: list = []
    yield start
    for server in started:
        server.shutdown()


def test_an_answer_that_drips_ends_at_the_deadline(hostile):
    url = hostile("drip")
    began = time.monotonic()
    with (
        SyncWebservice(url, "K" * 32, deadline=2, timeout=5, retries=0) as client,
        pytest.raises(ShopTimeout, match="n'a pas fini sa réponse"),
    ):
        client.list("customers")
    assert time.monotonic() - began < 10


def test_an_answer_too_large_is_refused_not_read(hostile):
    url = hostile("huge")
    with (
        SyncWebservice(url, "K" * 32, max_answer=4 * 2**20, retries=0) as client,
        pytest.raises(AnswerTooLarge, match="dépasse 4 Mo"),
    ):
        client.list("customers")


def test_a_page_sent_again_and_again_stops_the_read_naming_the_url(hostile):
    url = hostile("same_page")
    with SyncWebservice(url, "K" * 32, retries=0) as client:
        pages = client.iter_pages("customers")
        assert len(next(pages)) == 500
        with pytest.raises(PagingStuck, match=f"{url}/api/customers"):
            next(pages)


class Pages(Hostile):
    def do_GET(self) -> None:
        if self.behaviour == "redirect":
            self.send_response(301)
            self.send_header("Location", "https://www.boutique.example.fr/api/")
            self.end_headers()
            return
        if self.path.split("?")[0].rstrip("/") == "/api":
            self._send(ROOT, "text/xml")
            return
        page = b"<!DOCTYPE html><html><head><title>Maintenance</title></head></html>"
        self._send(page, "text/xml")  # an HTML page that says it is XML


def test_a_redirect_says_where_to_and_an_html_page_as_xml_is_a_page():
    from tui_connector.prestashop.errors import SecurityFilterPage, ShopUnreachable

    def serve(behaviour: str) -> str:
        handler = type("Handler", (Pages,), {"behaviour": behaviour})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    servers: list = []
    try:
        with (
            SyncWebservice(serve("redirect"), "K" * 32, retries=0) as client,
            pytest.raises(ShopUnreachable, match=r"www\.boutique\.example\.fr"),
        ):
            client.connect()
        with (
            SyncWebservice(serve("page"), "K" * 32, retries=0, prefer_json=False) as client,
            pytest.raises(SecurityFilterPage, match="Maintenance"),
        ):
            client.list("customers")
    finally:
        for server in servers:
            server.shutdown()
