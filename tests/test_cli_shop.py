"""`tui-connector check`, `demo` and `simulator` as a user or cron runs them."""

from __future__ import annotations

from tui_connector.cli import main
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop


def test_check_against_the_simulator(monkeypatch, capsys):
    with SimulatedShop(build(orders=5)) as shop:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", shop.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", shop.key)
        assert main(["check"]) == 0
        out = capsys.readouterr().out
        assert "PrestaShop 8.1.2" in out and "orders     prêt" in out
        assert shop.key not in out
        # the demo's carrier charges 20 % whatever the goods: said, with what to change
        assert "« Colissimo » facture le port à 20 % quand des produits sont à 2,1 %" in out
        assert "règle de taxe du transporteur" in out


def test_check_names_what_a_limited_key_lacks(monkeypatch, capsys):
    from tui_connector.sync.contacts import ContactsFlow

    permissions = {resource: {"get"} for resource in ContactsFlow.NEEDS}
    with SimulatedShop(build(orders=5), permissions=permissions) as shop:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", shop.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", shop.key)
        assert main(["check"]) == 1
        out = capsys.readouterr().out
        assert "contacts   prêt" in out
        assert "orders     manque order_details: GET" in out


def test_check_exit_3_on_wrong_key_or_no_shop(monkeypatch, capsys):
    with SimulatedShop(build(orders=1)) as shop:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", shop.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", "WRONG" * 7)
        assert main(["check"]) == 3
        assert "refusé la clé API" in capsys.readouterr().err
    monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", "http://127.0.0.1:9")
    assert main(["check"]) == 3
    assert "impossible de joindre la boutique" in capsys.readouterr().err
    monkeypatch.delenv("TUI_CONNECTOR_SHOP_URL")
    assert main(["check"]) == 2


def test_demo_runs_with_nothing_configured(capsys):
    assert main(["demo", "--orders", "20", "--exit"]) == 0
    out = capsys.readouterr().out
    assert "boutique de démo: http://127.0.0.1:" in out and "products   prêt" in out


def test_bad_fault_spec_is_a_usage_error(capsys):
    assert main(["simulator", "--faults", "explode=1"]) == 2
    assert "panne inconnue 'explode'" in capsys.readouterr().err
    assert main(["simulator", "--faults", "503=often"]) == 2
    assert "valeur invalide pour la panne '503'" in capsys.readouterr().err


def test_demo_never_touches_the_users_profile(tmp_path, capsys):
    from tui_connector import paths

    profile = paths.profile_path()
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text("[shop]\nurl = https://production.example.fr\n", encoding="utf-8")
    before = profile.read_bytes()
    assert main(["demo", "--orders", "5", "--exit", "--data", str(tmp_path / "demo")]) == 0
    assert profile.read_bytes() == before
    assert (tmp_path / "demo" / "demo-gestan.db").exists()  # kept where asked
    assert main(["demo", "--orders", "5", "--exit"]) == 0
    assert profile.read_bytes() == before and paths.profile_path() == profile


def test_the_application_without_a_terminal_says_what_to_use(capsys):
    assert main([]) == 2  # pytest's standard input is no terminal
    assert "sync" in capsys.readouterr().err


def test_check_warns_that_a_shop_before_json_reads_xml(monkeypatch, capsys):
    with SimulatedShop(build(orders=1), version="1.6") as shop:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", shop.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", shop.key)
        main(["check"])
        assert "pas de sortie JSON avant 1.7" in capsys.readouterr().out
