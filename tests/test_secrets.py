"""The API key never shows: not in any output, log, report, database row or error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import Faults, SimulatedShop

KEY = "K3YS3CR3TK3YS3CR3TK3YS3CR3TK3YS"


@pytest.mark.parametrize("strip_authorization", [False, True], ids=["basic", "ws_key"])
def test_no_output_log_report_or_row_holds_the_key(tmp_path, strip_authorization):
    faults = Faults(strip_authorization=strip_authorization, error_503=0.05, seed=4)
    with SimulatedShop(build(orders=25), key=KEY, faults=faults) as shop:
        url = f"sqlite:///{tmp_path / 'gestan.db'}"
        open_database(url)
        demo_gestan.seed(shop.data)
        m.database_proxy.obj.close()
        env = dict(
            os.environ,
            TUI_CONNECTOR_SHOP_URL=shop.url,
            TUI_CONNECTOR_API_KEY=KEY,
            TUI_CONNECTOR_DATABASE=url,
            TUI_CONNECTOR_LOG="debug",
            TUI_CONNECTOR_CONFIG=str(tmp_path / "profile.ini"),
            XDG_DATA_HOME=str(tmp_path / "data"),
        )
        outputs = []
        commands = [["check"], ["settings", "list"], ["settings", "get", "shop.api_key"]]
        commands += [
            ["sync", flow, *extra]
            for flow in ("contacts", "products", "stock", "orders")
            for extra in ([], ["--json"])
        ]
        commands += [
            ["sync", "orders", "--since-last", "--dry-run", "--json"],
            ["export", "fec", "--year", "2025", "--output", str(tmp_path)],
        ]
        for command in commands:
            done = subprocess.run(
                [sys.executable, "-m", "tui_connector", *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            outputs.append(done.stdout + done.stderr)
        # the wrong key too: its error message must not echo what was sent
        wrong = dict(env, TUI_CONNECTOR_API_KEY=KEY[::-1])
        done = subprocess.run(
            [sys.executable, "-m", "tui_connector", "check"],
            env=wrong,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 3
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    assert "DEBUG" in text  # the logs were really on
    if strip_authorization:
        assert "ws_key=***" in text or "RewriteRule" in text
    assert KEY not in text and KEY[::-1] not in text
    database = open_database(url)
    for model in m.ALL_MODELS:
        for row in model.select().dicts():
            assert KEY not in repr(row), model.__name__
    database.close()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "profile.ini" and not path.name.startswith("gestan"):
            assert KEY.encode() not in path.read_bytes(), path


def test_the_profile_holds_the_key_owner_only(tmp_path, monkeypatch):
    from tui_connector.cli import main

    monkeypatch.setenv("TUI_CONNECTOR_CONFIG", str(tmp_path / "p" / "profile.ini"))
    assert main(["settings", "set", "shop.api_key", KEY]) == 0
    path = tmp_path / "p" / "profile.ini"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KEY in path.read_text()
