"""The transport's decisions, apart from the sending: what an answer means, and when to ask again.

- `classify(status, headers, body)` turns one answer into the error that
  fits it (or None for a usable answer): a table of rules, read in order,
  pure, tested on the real shops' error bodies.
- `failure(exc, asked)` does the same for a request that got no answer.
- `RetryPolicy` says which of those are sent again, how many times and
  after how long (backoff with jitter, Retry-After), and never repeats a
  POST the shop may have done.
- `basic_auth_refused(error)` says when a 401 may be a host that strips the
  Authorization header (the client then tries the key in `?ws_key=`).

No message here holds the API key: only the path is shown, never the query.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlparse

import httpx

from tui_connector.prestashop import codec
from tui_connector.prestashop.errors import (
    AuthenticationFailed,
    CodecError,
    NotFound,
    PermissionDenied,
    PhpFailed,
    PrestaShopError,
    SecurityFilterPage,
    ShopBusy,
    ShopRejected,
    ShopTimeout,
    ShopUnreachable,
    UnknownResource,
    WebserviceDisabled,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
API_ROOT = "la racine de l'API"  # what a key may not use when the path is empty
RIGHTS_HINT = (
    "cochez cette ressource et cette méthode pour la clé dans Paramètres avancés > Webservice"
)
SECURITY_FILTER_HINT = (
    "un filtre de sécurité (mod_security, un pare-feu) ou une page d'erreur de l'hébergeur "
    "s'interpose: demandez à l'hébergeur d'autoriser les requêtes du Webservice vers /api/"
)
PHP_MESSAGE = re.compile(rb"<b>(Warning|Notice|Fatal error|Parse error)</b>:\s*([^<]{0,160})")

# The shop's error codes the rules read (PrestaShop's WebserviceRequest)
KEY_NOT_ACTIVE = 20
NO_PERMISSION = 21
WEBSERVICE_OFF = 22
RESOURCE_NOT_ALLOWED = 26
NO_SUCH_RESOURCE = 27


@dataclass(frozen=True)
class Asked:
    """The request an answer is for, as the messages name it."""

    method: str = "GET"
    path: str = ""
    base_url: str = ""
    expect: str = "xml"  # "xml", "json", "image" or "none": what a 2xx should hold

    @property
    def where(self) -> str:
        return f"{self.method} /api/{self.path}"

    @property
    def resource(self) -> str:
        return self.path.split("/")[0]


@dataclass(frozen=True)
class Answer:
    """One answer, with what the rules look at computed once."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    asked: Asked
    retried: int  # how many times the request was sent again before this answer

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @cached_property
    def errors(self) -> list[codec.ShopError]:
        return codec.decode_errors(self.body)

    @property
    def codes(self) -> list[int]:
        return [error.code for error in self.errors]

    @property
    def detail(self) -> str:
        return "; ".join(f"[{e.code}] {e.message}" for e in self.errors)[:500]

    @property
    def html(self) -> bool:
        return "html" in self.content_type

    @cached_property
    def title(self) -> str:
        return title_of(self.body.decode("utf-8", "replace"))

    @cached_property
    def php(self) -> str:
        return php_message(self.body)


def title_of(html: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    if match:
        return " ".join(match.group(1).split())[:120]
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())[:120]


def php_message(body: bytes) -> str:
    """PHP's own error printed in place of the answer (display_errors on), or ""."""
    found = PHP_MESSAGE.search(body[:4000])
    if not found:
        return ""
    words = " ".join(found.group(2).decode("utf-8", "replace").split())
    return f"{found.group(1).decode()}: {words}"


# --- the rules, each a condition and the error it gives -------------------------------


def _redirect(a: Answer) -> PrestaShopError:
    target = a.headers.get("Location", "")
    return ShopUnreachable(
        f"la boutique répond à {a.asked.where} par une redirection (statut {a.status}) vers "
        f"{target or '?'}",
        hint="donnez à shop.url l'adresse vers laquelle elle redirige (https, www, un dossier)",
    )


def _page_instead_of_data(a: Answer) -> bool:
    looks_html = a.body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    return a.asked.expect in ("xml", "json") and (a.html or looks_html) and bool(a.body.strip())


def _page_with_2xx(a: Answer) -> PrestaShopError:
    return SecurityFilterPage(
        f"la boutique a envoyé une page HTML au lieu de {a.asked.expect.upper()} pour "
        f"{a.asked.where} (statut {a.status}, titre de la page: {a.title!r})",
        hint="un filtre de sécurité (mod_security, un pare-feu) ou une page d'erreur de "
        "l'hébergeur répond à la place du Webservice: demandez à l'hébergeur d'autoriser /api/",
        status=a.status,
    )


def _disabled(a: Answer) -> PrestaShopError:
    return WebserviceDisabled(
        "le Webservice de la boutique est désactivé",
        hint="activez-le dans Paramètres avancés > Webservice (Activer le service web de "
        "PrestaShop)",
        status=a.status,
    )


def _resource_not_ticked(a: Answer) -> PrestaShopError:
    resource = a.asked.resource or API_ROOT
    method = a.asked.method
    return PermissionDenied(
        f"la clé n'a pas le droit {method} sur {resource}",
        hint=f"cochez {method} pour {resource} sur la ligne de la clé dans "
        "Paramètres avancés > Webservice",
        status=a.status,
        codes=a.codes,
    )


def _key_without_permission(a: Answer) -> bool:
    codes = a.codes
    return bool(codes) and KEY_NOT_ACTIVE not in codes and NO_PERMISSION in codes


def _no_right(a: Answer) -> PrestaShopError:
    return PermissionDenied(
        f"la clé n'a pas le droit {a.asked.method} sur {a.asked.resource or API_ROOT}",
        hint=RIGHTS_HINT,
        status=a.status,
        codes=a.codes,
    )


def _key_refused(a: Answer) -> PrestaShopError:
    detail = a.detail
    return AuthenticationFailed(
        "la boutique a refusé la clé API" + (f" ({detail})" if detail else " (aucune clé reçue)"),
        hint="vérifiez la clé (tui-connector settings set shop.api_key ...) et qu'elle "
        "est active dans Paramètres avancés > Webservice",
        status=a.status,
        codes=a.codes,
    )


def _forbidden(a: Answer) -> PrestaShopError:
    detail = a.detail
    return PermissionDenied(
        f"la boutique n'autorise pas {a.asked.where}" + (f": {detail}" if detail else ""),
        hint=RIGHTS_HINT,
        status=a.status,
        codes=a.codes,
    )


def _not_a_webservice(a: Answer) -> PrestaShopError:
    return ShopUnreachable(
        f"aucun Webservice PrestaShop ne répond à {a.asked.base_url}/api/ (statut 404)",
        hint="vérifiez l'adresse de la boutique; une boutique dans un dossier s'écrit "
        "https://hote/dossier",
    )


def _not_found(a: Answer) -> PrestaShopError:
    return NotFound(f"la boutique n'a pas {a.asked.path}", status=a.status)


def _php_failed(a: Answer) -> PrestaShopError:
    return PhpFailed(
        f"le PHP de la boutique a échoué sur {a.asked.where} ({a.php})",
        hint="un enregistrement que la boutique ne sait pas afficher, ou le bogue d'un "
        "module: le journal d'erreurs de la boutique dit lequel",
        status=a.status,
    )


def _a_page(a: Answer) -> bool:
    return bool(a.body.strip()) and (a.html or b"<html" in a.body[:500].lower())


def _page_with_error(a: Answer) -> PrestaShopError:
    return SecurityFilterPage(
        f"la boutique a répondu à {a.asked.where} par une page HTML, statut {a.status} "
        f"({a.title or 'sans titre'})",
        hint=SECURITY_FILTER_HINT,
        status=a.status,
        codes=a.codes,
    )


def _unknown_resource(a: Answer) -> PrestaShopError:
    return UnknownResource(
        f"la boutique n'a pas de ressource {a.asked.resource!r}",
        hint="un PrestaShop plus ancien, ou il manque le module qui l'ajoute",
        status=a.status,
        codes=a.codes,
    )


def _busy(a: Answer) -> PrestaShopError:
    after = f" après {a.retried} nouvelles tentatives" if a.retried else ""
    return ShopBusy(
        f"la boutique échoue toujours sur {a.asked.where} (statut {a.status}){after}",
        hint="la boutique est surchargée ou limite les requêtes: réessayez plus tard, "
        "ou réduisez le débit des requêtes",
        status=a.status,
    )


def _rejected(a: Answer) -> PrestaShopError:
    detail = a.detail
    return ShopRejected(
        f"la boutique a refusé {a.asked.where} (statut {a.status})"
        + (f": {detail}" if detail else ""),
        status=a.status,
        codes=a.codes,
    )


# Read top to bottom, the first rule that applies decides. A 2xx that is not
# a page is a usable answer (None).
RULES: list[tuple[Callable[[Answer], bool], Callable[[Answer], PrestaShopError | None]]] = [
    (lambda a: 300 <= a.status < 400, _redirect),
    (lambda a: 200 <= a.status < 300 and _page_instead_of_data(a), _page_with_2xx),
    (lambda a: 200 <= a.status < 300, lambda a: None),
    (lambda a: a.status == 401 and WEBSERVICE_OFF in a.codes, _disabled),
    (lambda a: a.status == 401 and RESOURCE_NOT_ALLOWED in a.codes, _resource_not_ticked),
    (lambda a: a.status == 401 and _key_without_permission(a), _no_right),
    (lambda a: a.status == 401, _key_refused),
    (lambda a: WEBSERVICE_OFF in a.codes, _disabled),
    (lambda a: a.status in (403, 405) and not (a.html and not a.errors), _forbidden),
    (lambda a: a.status == 404 and not a.asked.path, _not_a_webservice),
    (lambda a: a.status == 404 and not a.body.strip(), _not_found),
    (lambda a: a.status >= 500 and bool(a.php), _php_failed),
    (_a_page, _page_with_error),
    (lambda a: NO_SUCH_RESOURCE in a.codes, _unknown_resource),
    (lambda a: a.status in RETRY_STATUSES or (a.status >= 500 and not a.errors), _busy),
    (lambda a: True, _rejected),
]


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    asked: Asked | None = None,
    *,
    retried: int = 0,
) -> PrestaShopError | None:
    """The error an answer stands for, or None when it is the answer asked for."""
    # headers as httpx reads them: names in any case
    answer = Answer(status, httpx.Headers(headers), body or b"", asked or Asked(), retried)
    for applies, error_of in RULES:
        if applies(answer):
            return error_of(answer)
    raise AssertionError("the last rule applies to every answer")  # pragma: no cover


def basic_auth_refused(error: PrestaShopError) -> bool:
    """A 401 that names no resource and no disabled Webservice: the key may be right and
    the host may strip the Authorization header (CGI/FastCGI hosting)."""
    return (
        isinstance(error, AuthenticationFailed | PermissionDenied)
        and error.status == 401
        and RESOURCE_NOT_ALLOWED not in error.codes
    )


# --- a request that got no answer ----------------------------------------------------

CONNECTION_FAILED = (httpx.ConnectError, httpx.ConnectTimeout)  # nothing reached the shop
ANSWER_LATE = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)
ANSWER_CUT = (httpx.RemoteProtocolError, httpx.ReadError)


def failure(exc: httpx.HTTPError, asked: Asked, timeout: float) -> PrestaShopError:
    """The error for a request that got no answer at all."""
    name = type(exc).__name__
    if isinstance(exc, ANSWER_LATE):
        return ShopTimeout(
            f"la boutique n'a pas répondu à {asked.where} en {timeout:.0f} s ({name})",
            hint="la boutique est lente ou surchargée: réessayez plus tard, ou réduisez le "
            "nombre de requêtes simultanées",
        )
    if isinstance(exc, ANSWER_CUT):
        return ShopUnreachable(
            f"la connexion à la boutique a été coupée pendant {asked.where} ({name})",
            hint="un proxy ou la boutique a interrompu la réponse; réessayez plus tard",
        )
    return unreachable(exc, asked.base_url)


def unreachable(exc: Exception, base_url: str) -> ShopUnreachable:
    host = urlparse(base_url).hostname
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return ShopUnreachable(
            f"le certificat TLS de {host} n'a pas pu être vérifié ({text[:120]})",
            hint="vérifiez l'adresse (https://...) et le certificat de la boutique",
        )
    if "Name or service not known" in text or "nodename" in text or "getaddrinfo" in text:
        return ShopUnreachable(
            f"le nom {host} est introuvable (DNS)",
            hint="vérifiez l'adresse de la boutique: une faute de frappe?",
        )
    return ShopUnreachable(
        f"impossible de joindre la boutique à {base_url} ({text[:120]})",
        hint="vérifiez l'adresse et que la boutique est en ligne",
    )


# --- sending again ---------------------------------------------------------------------


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None when absent."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())


@dataclass(frozen=True)
class RetryPolicy:
    """When a request is sent again, and after how long: one policy for every request.

    Sent again, up to `retries` times: a connection that failed (nothing
    reached the shop) and a 429 (refused before anything was done), for any
    method; for idempotent ones only (all but POST, which the shop may have
    done), timeouts, cut answers, 502/503/504, an empty 500 and an answer
    damaged on its way. Never: a 500 that would say the same again (PHP's
    error, the shop's own error document), nor a disabled Webservice.
    """

    retries: int = 4
    backoff: float = 0.5  # the first wait, doubled at each try
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a shop asking for more is waited for this long
    jitter: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def delay(self, attempt: int, hinted: float | None = None) -> float:
        if hinted is not None:
            return min(hinted, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return ceiling * self.jitter(0.5, 1.0)  # jitter: clients do not retry in step

    def retries_failure(self, exc: httpx.HTTPError, *, idempotent: bool, attempt: int) -> bool:
        if attempt >= self.retries:
            return False
        if isinstance(exc, CONNECTION_FAILED):
            return True
        return idempotent and isinstance(exc, ANSWER_LATE + ANSWER_CUT)

    def retries_answer(
        self, status: int, error: PrestaShopError, *, idempotent: bool, attempt: int
    ) -> bool:
        if attempt >= self.retries or isinstance(error, WebserviceDisabled):
            return False  # (a switch in the back office: it does not come back by itself)
        if status == 429:
            return True
        if not idempotent:
            return False
        if isinstance(error, CodecError) or status in RETRY_STATUSES:
            return True
        # an empty 500 is a host hiccup; the shop's errors or PHP's would come again
        return status == 500 and not error.codes and not isinstance(error, PhpFailed)
