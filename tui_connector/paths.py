"""Where things live on disk (platformdirs), overridable for tests and cron."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "tui-connector"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def profile_path() -> Path:
    override = os.environ.get("TUI_CONNECTOR_CONFIG")
    return Path(override) if override else config_dir() / "profile.ini"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'gestan.db'}"
