"""A flow is declared once, in the registry: a new one (here a stub that reads the shop's
languages) is its own class and one entry, and the command line, `check`, the home
screen, its import screen and the fault matrix all have it."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests import test_ui
from tests.test_ui import settle
from tui_connector.cli import build_parser, main
from tui_connector.errors import SettingsError
from tui_connector.prestashop.query import Query
from tui_connector.simulator import fault_matrix
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync import registry
from tui_connector.sync.core import Flow, Origin, Row, RowResult
from tui_connector.sync.runner import flow_needs, make_flow
from tui_connector.sync.status import Status
from tui_connector.ui.app import ConnectorApp
from tui_connector.ui.home import HomeScreen
from tui_connector.ui.import_screen import ImportScreen

shop, session = test_ui.shop, test_ui.session  # the demo shop and Gestan of the UI tests


class LanguagesFlow(Flow):
    """The stub: a row per language of the shop, nothing to do."""

    name = "languages"
    NEEDS = {"languages": {"get"}}

    def read(self, progress=None) -> list[Row]:
        languages = self.client.list("languages", Query(display="full"))
        return [
            Row(
                key=f"language:{language['id']}",
                origin=Origin.SHOP,
                status=Status.UP_TO_DATE,
                shop_id=int(language["id"]),
                columns={"code": language.get("iso_code", ""), "label": str(language["id"])},
            )
            for language in languages
        ]

    def apply(self, row: Row) -> RowResult:
        return RowResult.of(row, "skipped")


STUB = registry.FlowSpec(
    name="languages",
    title="Langues",
    key="5",
    flow_class=LanguagesFlow,
    help="les langues de la boutique (un essai)",
    columns=(registry.Column("code", "Langue", 4),),
)


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setitem(registry.FLOWS, STUB.name, STUB)
    return STUB


def test_without_its_entry_the_command_line_does_not_know_it(capsys):
    with pytest.raises(SettingsError, match="choix invalide"):
        build_parser().parse_args(["sync", "languages"])


def test_the_command_line_offers_it_with_its_help(stub, capsys):
    assert build_parser().parse_args(["sync", "languages"]).flow == "languages"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sync", "--help"])
    assert "languages, les langues de la boutique" in " ".join(capsys.readouterr().out.split())


def test_check_says_what_it_needs_and_sync_runs_it(stub, monkeypatch, capsys, tmp_path):
    assert flow_needs()["languages"] == ({"languages": {"get"}}, {})
    with SimulatedShop(build(orders=2)) as running:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", running.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", running.key)
        monkeypatch.setenv("TUI_CONNECTOR_DATABASE", f"sqlite:///{tmp_path / 'g.db'}")
        assert main(["check"]) == 0
        assert "languages  prêt" in capsys.readouterr().out
        assert main(["sync", "languages", "--dry-run"]) == 0


def test_a_key_already_taken_is_refused():
    with pytest.raises(ValueError, match="already contacts"):
        registry.register(registry.FlowSpec("other", "Autre", "1", LanguagesFlow, "", columns=()))
    assert "other" not in registry.FLOWS


def test_a_flow_is_made_with_the_options_it_declares_only(client, stub):
    assert isinstance(make_flow("languages", client), LanguagesFlow)
    with pytest.raises(TypeError, match="since_last"):
        make_flow("languages", client, since_last=True)


async def test_home_shows_it_and_its_key_opens_its_screen(stub, session):
    app = ConnectorApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(DataTable)
        assert [str(cell) for cell in table.get_row("languages")[:2]] == ["5", "Langues"]
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen) and screen.title_text == "Langues"
        await pilot.press("r")
        await settle(pilot)
        assert {row.columns["code"] for row in screen.rows} >= {"fr", "en"}
        assert [str(c.label) for c in screen.query_one(DataTable).columns.values()][1] == "Langue"


def test_the_fault_matrix_runs_it(stub, tmp_path):
    assert "languages" in fault_matrix.FLOWS
    cell = fault_matrix.run_cell("languages", "500 at random", tmp_path)
    assert cell.rerun == "nothing left to do" and cell.duplicates == 0, cell


def test_the_fault_matrix_runs_what_a_flow_comes_after_first_and_once(monkeypatch):
    later = registry.FlowSpec(
        "later", "Plus tard", "6", LanguagesFlow, "", columns=(), after=("orders", "stock")
    )
    monkeypatch.setitem(registry.FLOWS, later.name, later)
    assert fault_matrix.before("later") == ["contacts", "products", "orders", "stock"]


def test_every_flow_has_a_free_key_and_actions_the_screen_knows():
    taken = {binding.key for binding in HomeScreen.COMMON}
    keys = [flow.key for flow in registry.FLOWS.values()]
    assert len(set(keys)) == len(keys) and not set(keys) & taken
    for flow in registry.FLOWS.values():
        assert set(flow.actions) <= ImportScreen.FLOW_ACTIONS, flow.name
        assert flow.cls.NEEDS, flow.name  # its class is found


def test_every_status_has_its_words_and_an_unknown_code_shows_as_it_is():
    from tui_connector.labels import STATUS_LABELS, status_label

    assert set(STATUS_LABELS) == set(Status)
    assert len(set(STATUS_LABELS.values())) == len(Status)  # no two statuses read alike
    assert status_label(Status.UP_TO_DATE) == "À jour"
    assert status_label("Ajout") == "Ajout"  # a run line saved by an older version
