"""What the user chose in the application itself (the theme), kept beside the profile:
a demo, whose profile lives in its own folder, keeps its own."""

from __future__ import annotations

import configparser
import logging

from tui_connector import paths

log = logging.getLogger(__name__)


def _path():
    return paths.profile_path().with_name("tui.ini")


def theme() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(_path(), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return ""  # a damaged preferences file only costs the theme
    return parser.get("display", "theme", fallback="")


def keep_theme(name: str) -> None:
    path = _path()
    parser = configparser.ConfigParser(interpolation=None)
    parser["display"] = {"theme": name}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as stream:
            parser.write(stream)
    except OSError as exc:  # a read-only home: the theme is simply not kept
        log.warning("le thème n'a pas pu être gardé dans %s: %s", path, exc)
