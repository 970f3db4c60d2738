"""What can go wrong with a shop, each as its own type with what to do about it.

No message here ever holds the API key: URLs are shown without their
query string, and the key is never put into one.
"""

from __future__ import annotations

from tui_connector.errors import ConnectorError

HTACCESS_HINT = (
    "votre hébergeur supprime l'en-tête Authorization (CGI/FastCGI). Ajoutez au .htaccess "
    "de la boutique: RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}] "
    "- en attendant, tui-connector envoie la clé en ?ws_key= (réglage: shop.auth_mode ws_key)"
)


class PrestaShopError(ConnectorError):
    """Something the shop, or the way to it, did. Exit status 3 unless said otherwise."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str = "", status: int | None = None, codes=()):
        super().__init__(message, hint=hint)
        self.status = status
        self.codes = tuple(codes)


class CodecError(PrestaShopError):
    """The shop's answer is not the XML or JSON it should be."""

    exit_code = 1


class ShopUnreachable(PrestaShopError):
    """DNS, connection refused, TLS: nothing answered."""


class ShopTimeout(PrestaShopError):
    """The shop did not answer in time, even after retries."""


class ShopBusy(PrestaShopError):
    """429 or 5xx, still, after the retries the policy allows (none for a POST but 429)."""

    php_failed = False


class AuthenticationFailed(PrestaShopError):
    """The key is wrong or inactive (401)."""


class WebserviceDisabled(PrestaShopError):
    """The shop's Webservice is switched off (code 22)."""


class PermissionDenied(PrestaShopError):
    """The key may not use this resource or method."""


class UnknownResource(PrestaShopError):
    """The shop has no such resource (code 27): an older version, or a module missing."""

    exit_code = 1


class NotFound(PrestaShopError):
    """No record with that id (404, empty body)."""

    exit_code = 1


class PhpFailed(ShopBusy):
    """PHP's own error printed in place of the answer (a record the shop cannot render)."""

    php_failed = True


class AnswerTooLarge(PrestaShopError):
    """An answer past the size a page of the Webservice can have: refused, not read."""

    exit_code = 3


class PagingStuck(PrestaShopError):
    """A list that repeats or goes backwards (a cache ignoring the id filter)."""

    exit_code = 3


class ShopRejected(PrestaShopError):
    """A 400/500 with the shop's own error document: a bad filter, a bad value..."""

    exit_code = 1


class SecurityFilterPage(PrestaShopError):
    """An HTML page where XML was expected: mod_security, a WAF, or a host error page."""


class UnsupportedVersion(PrestaShopError):
    """Older than 1.5, or not a PrestaShop at all."""


class BadQuery(PrestaShopError):
    """A filter, sort or limit we refuse to send (the shop would accept it silently)."""

    exit_code = 2
