"""The version quirks, each read from one table (prestashop/versions.py), by the client
and by the simulator alike."""

from __future__ import annotations

import pytest

from tui_connector.prestashop.errors import UnsupportedVersion
from tui_connector.prestashop.versions import capabilities
from tui_connector.simulator.server import VERSIONS, Engine, ShopData


@pytest.mark.parametrize(
    ("header", "json_output", "patch", "query_error_status"),
    [
        ("1.5.6.3", False, False, 400),
        ("1.6.1.24", False, False, 400),
        ("1.7.8.11", True, False, 400),
        ("8.1.2", True, True, 400),
        ("9.0.0", True, True, 500),
    ],
)
def test_each_version_says_what_it_can_do(header, json_output, patch, query_error_status):
    caps = capabilities(header)
    assert caps.label == header
    assert caps.json_output is json_output and caps.patch is patch
    assert caps.query_error_status == query_error_status


def test_only_9_changes_the_root():
    assert not capabilities("8.1.2").gone_from_root and not capabilities("8.1.2").new_in_root
    nine = capabilities("9.0.0")
    assert "supply_orders" in nine.gone_from_root and nine.new_in_root == {"order_returns"}


@pytest.mark.parametrize("header", [None, "", "0", "1.4.11", "abc", "8.x"])
def test_what_is_not_a_supported_version_is_refused(header):
    with pytest.raises(UnsupportedVersion):
        capabilities(header)


@pytest.mark.parametrize("profile", sorted(VERSIONS))
def test_the_simulator_reads_the_same_capabilities(profile):
    engine = Engine(ShopData(), key="K" * 32, version=profile)
    assert engine.capabilities == capabilities(VERSIONS[profile])
    names = {entry["name"] for entry in engine.root_entries()}
    assert not names & engine.capabilities.gone_from_root
    assert engine.capabilities.new_in_root <= names


def test_the_simulator_plays_a_shop_the_client_refuses():
    engine = Engine(ShopData(), key="K" * 32, version="1.4.11")
    assert engine.capabilities.version == (1, 4, 11) and not engine.capabilities.json_output
