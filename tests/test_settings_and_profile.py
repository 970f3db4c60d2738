"""Settings in the database, the profile on disk, and `tui-connector settings` headless."""

from __future__ import annotations

import os
import stat

import pytest

from tui_connector import config
from tui_connector.cli import main
from tui_connector.errors import SettingsError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def test_booleans_are_typed_and_validated(gestan):
    assert settings.get("invoices.create") is False
    assert settings.set_value("invoices.create", "oui") == "true"
    assert settings.get("invoices.create") is True
    settings.set_value("invoices.create", "0")
    assert settings.get("invoices.create") is False
    with pytest.raises(SettingsError, match="oui ou non"):
        settings.set_value("invoices.create", "peut-être")


def test_keys_with_ids_check_what_they_point_to(gestan):
    settings.set_value("civility.1", "M.")
    settings.set_value("civility.2", "Mme")
    assert settings.family_keys("civility.") == {"1": "M.", "2": "Mme"}
    with pytest.raises(SettingsError, match="aucune civilité Gestan"):
        settings.set_value("civility.3", "Dr")
    with pytest.raises(SettingsError, match="aucune famille Gestan"):
        settings.set_value("family.4", "VET")
    m.Family.create(code="VET", label="Vêtements")
    settings.set_value("family.4", "VET")
    assert settings.get("family.4") == "VET"


def test_accounts_territories_and_unknown_keys(gestan):
    assert settings.set_value("accounting.bank_account", "512100") == "512100"
    with pytest.raises(SettingsError, match="plan comptable"):
        settings.set_value("accounting.bank_account", "banque")
    assert settings.set_value("territory.EXPORT", "country:be, group:3,country:BE") == (
        "country:BE,group:3"
    )
    with pytest.raises(SettingsError, match="country:"):
        settings.set_value("territory.EXPORT", "belgium")
    with pytest.raises(SettingsError, match="réglage inconnu"):
        settings.set_value("invoices.creat", "true")
    with pytest.raises(SettingsError, match="aucun produit Gestan"):
        settings.set_value("shipping.product", "PORT")


def test_listing_shows_defaults_and_stored_family_keys(gestan):
    settings.set_value("civility.1", "M.")
    rows = {key: value for key, value, _ in settings.listing()}
    assert rows["invoices.create"] == "false"
    assert rows["accounting.bank_account"] == "512"
    assert rows["civility.1"] == "M."


def test_the_key_never_shows_in_repr_or_str():
    profile = config.Profile(shop_url="https://shop.example", api_key=config.Secret(KEY))
    for text in (repr(profile), str(profile), repr(profile.api_key), f"{profile.api_key}"):
        assert KEY not in text
    assert profile.api_key.reveal() == KEY


def test_profile_file_is_owner_only_and_env_overrides_it(tmp_path, monkeypatch):
    config.set_profile_value("shop.url", "https://boutique.example.fr/api/")
    config.set_profile_value("shop.api_key", KEY)
    path = tmp_path / "profile.ini"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    profile = config.load()
    assert profile.shop_url == "https://boutique.example.fr"
    assert profile.api_key.reveal() == KEY
    monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("TUI_CONNECTOR_DATABASE", "sqlite:////tmp/other.db")
    profile = config.load()
    assert profile.shop_url == "http://127.0.0.1:8080"
    assert profile.database_url == "sqlite:////tmp/other.db"


def test_bad_profile_values_say_what_to_fix():
    with pytest.raises(SettingsError, match="adresse de base de la boutique"):
        config.set_profile_value("shop.url", "boutique")
    with pytest.raises(SettingsError, match="Webservice"):
        config.set_profile_value("shop.api_key", "short")


def test_cli_settings_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_CONNECTOR_DATABASE", f"sqlite:///{tmp_path / 'g.db'}")
    assert main(["settings", "set", "shop.api_key", KEY]) == 0
    assert main(["settings", "set", "invoices.mark_paid", "yes"]) == 0
    assert main(["settings", "get", "invoices.mark_paid"]) == 0
    assert main(["settings", "list"]) == 0
    out = capsys.readouterr().out
    assert "invoices.mark_paid = true" in out
    assert KEY not in out
    assert main(["settings", "set", "invoices.mark_paid", "maybe"]) == 2
    assert "oui ou non" in capsys.readouterr().err
    assert main(["settings", "get", "no.such.key"]) == 2


def test_cli_unreachable_database_exits_3(monkeypatch, capsys):
    monkeypatch.setenv("TUI_CONNECTOR_DATABASE", "postgresql://u:pw123456@127.0.0.1:1/x")
    assert main(["settings", "list"]) == 3
    err = capsys.readouterr().err
    assert "impossible d'ouvrir la base Gestan" in err and "pw123456" not in err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://admin:S3cret@boutique.example.fr", "nom d'utilisateur ou un mot de passe"),
        ("https://boutique.example.fr:99999", "port"),
        ("https://bouti\x07que.example.fr", "caractère de contrôle"),
    ],
)
def test_shop_addresses_are_checked_and_a_password_never_kept(url, said, monkeypatch, capsys):
    with pytest.raises(SettingsError, match=said):
        config.set_profile_value("shop.url", url)
    monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", url)
    assert main(["check"]) == 2
    assert "S3cret" not in capsys.readouterr().err


def test_a_profile_readable_by_others_is_made_owner_only_and_said(tmp_path, caplog):
    config.set_profile_value("shop.api_key", KEY)
    path = tmp_path / "profile.ini"
    os.chmod(path, 0o644)
    assert config.load().api_key.reveal() == KEY
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "lisible par d'autres" in caplog.text


def test_a_profile_that_is_not_utf8_says_so(tmp_path, capsys):
    (tmp_path / "profile.ini").write_bytes(b"[shop]\nurl = https://caf\xe9.fr\n")
    assert main(["settings", "get", "shop.url"]) == 2
    assert "pas du texte UTF-8" in capsys.readouterr().err


def test_the_key_can_be_given_on_standard_input(tmp_path, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["settings", "set", "shop.api_key", "-"]) == 0
    assert config.load().api_key.reveal() == KEY
    assert KEY not in capsys.readouterr().out
