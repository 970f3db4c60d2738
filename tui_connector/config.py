"""The connection profile: shop URL, API key, database URL.

Kept in an INI file in the platformdirs config folder, written owner-only
(0600); the environment variables TUI_CONNECTOR_SHOP_URL,
TUI_CONNECTOR_API_KEY, TUI_CONNECTOR_DATABASE and TUI_CONNECTOR_CONFIG
override it. The key is a `Secret`: it never shows in a repr, a log line
or a traceback.
"""

from __future__ import annotations

import configparser
import logging
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from tui_connector import paths
from tui_connector.errors import SettingsError

log = logging.getLogger(__name__)


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def masked(self) -> str:
        if not self._value:
            return ""
        return "*" * 8 + (self._value[-4:] if len(self._value) >= 16 else "")

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    __str__ = masked

    def __reduce__(self):  # pickling would write the key in clear
        raise TypeError("un Secret ne se sérialise pas (pickle)")


AUTH_MODES = ("basic", "ws_key")


@dataclass(frozen=True)
class Profile:
    shop_url: str = ""
    api_key: Secret = field(default_factory=lambda: Secret(""))
    auth_mode: str = "basic"  # ws_key when the host strips the Authorization header
    database_url: str = ""

    def effective_database_url(self) -> str:
        return self.database_url or paths.default_database_url()


PROFILE_KEYS = {
    "shop.url": "shop_url",
    "shop.api_key": "api_key",
    "shop.auth_mode": "auth_mode",
    "database.url": "database_url",
}


def validate_shop_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url:
        return url
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        raise SettingsError(
            "l'adresse de la boutique contient un caractère de contrôle",
            hint="tapez de nouveau l'adresse, par exemple https://boutique.example.fr",
        )
    parsed = urlparse(url)
    if parsed.username or parsed.password:  # never kept, never printed
        raise SettingsError(
            "l'adresse de la boutique contient un nom d'utilisateur ou un mot de passe "
            "(utilisateur:motdepasse@)",
            hint="donnez l'adresse sans eux; c'est la clé Webservice qui sert d'identifiant "
            "(si l'hébergeur protège le site par mot de passe: demandez-lui de laisser passer "
            "/api/)",
        )
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise SettingsError(
            f"le port de {url!r} n'est pas valable (1 à 65535)",
            hint="vérifiez l'adresse de la boutique",
        )
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(
            f"{url!r} n'est pas une adresse de boutique",
            hint="donnez l'adresse de base de la boutique, par exemple https://boutique.example.fr",
        )
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url


def validate_api_key(key: str) -> str:
    key = key.strip()
    if key and (len(key) < 16 or not key.isalnum()):
        raise SettingsError(
            "ceci ne ressemble pas à une clé Webservice",
            hint="copiez la clé de 32 caractères depuis Paramètres avancés > Webservice",
        )
    return key


def normalise_profile_value(key: str, value: str):
    if key == "shop.url":
        return validate_shop_url(value)
    if key == "shop.api_key":
        return Secret(validate_api_key(value))
    if key == "shop.auth_mode":
        if value not in AUTH_MODES:
            raise SettingsError(f"shop.auth_mode vaut {' ou '.join(AUTH_MODES)}")
        return value
    if key == "database.url":
        scheme = urlparse(value).scheme.split("+")[0]
        if value and scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
            raise SettingsError(
                f"adresse de base de données inconnue {value!r}",
                hint="sqlite:///chemin, postgresql://utilisateur@hote/base ou "
                "mysql://utilisateur@hote/base",
            )
        return value.strip()
    raise SettingsError(f"clé de profil inconnue {key!r}")


def read_file(path: Path) -> Profile:
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        tighten(path)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise SettingsError(
                f"le profil {path} est illisible: {exc.message.splitlines()[0]}",
                hint="corrigez ou supprimez ce fichier, puis réglez de nouveau les valeurs",
            ) from None
        except UnicodeDecodeError:
            raise SettingsError(
                f"le profil {path} n'est pas du texte UTF-8",
                hint="corrigez ou supprimez ce fichier, puis réglez de nouveau les valeurs",
            ) from None
    shop = parser["shop"] if parser.has_section("shop") else {}
    database = parser["database"] if parser.has_section("database") else {}
    return Profile(
        shop_url=shop.get("url", ""),
        api_key=Secret(shop.get("api_key", "")),
        auth_mode=shop.get("auth_mode", "basic"),
        database_url=database.get("url", ""),
    )


def tighten(path: Path) -> None:
    """A profile others may read (it holds the key) is made owner-only, and said."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning(
            "le profil %s était lisible par d'autres (mode %o): désormais réservé à son "
            "propriétaire (600)",
            path,
            mode,
        )


def load(environ: dict[str, str] | None = None) -> Profile:
    """The profile file, with the environment variables on top."""
    env = os.environ if environ is None else environ
    profile = read_file(paths.profile_path())
    overrides = {}
    if env.get("TUI_CONNECTOR_SHOP_URL"):
        overrides["shop_url"] = validate_shop_url(env["TUI_CONNECTOR_SHOP_URL"])
    if env.get("TUI_CONNECTOR_API_KEY"):
        overrides["api_key"] = Secret(env["TUI_CONNECTOR_API_KEY"].strip())
    if env.get("TUI_CONNECTOR_DATABASE"):
        overrides["database_url"] = env["TUI_CONNECTOR_DATABASE"].strip()
    if overrides.get("shop_url") is None and profile.shop_url:
        overrides["shop_url"] = validate_shop_url(profile.shop_url)  # a hand-edited file
    return replace(profile, **overrides)


def save(profile: Profile, path: Path | None = None) -> Path:
    """Write the profile owner-only, atomically (never a moment readable by others)."""
    path = path or paths.profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    parser = configparser.ConfigParser(interpolation=None)
    parser["shop"] = {
        "url": profile.shop_url,
        "api_key": profile.api_key.reveal(),
        "auth_mode": profile.auth_mode,
    }
    parser["database"] = {"url": profile.database_url}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".profile-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            parser.write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)
    return path


def set_profile_value(key: str, value: str) -> Profile:
    """Change one key of the profile file (not the environment overrides)."""
    path = paths.profile_path()
    profile = read_file(path)
    updated = replace(profile, **{PROFILE_KEYS[key]: normalise_profile_value(key, value)})
    save(updated, path)
    return updated


def profile_value_for_display(profile: Profile, key: str) -> str:
    value = getattr(profile, PROFILE_KEYS[key])
    return value.masked() if isinstance(value, Secret) else str(value)
