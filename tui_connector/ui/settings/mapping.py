"""Mappage: the shop's categories to Gestan families, its products to Gestan products
when the references differ, and Gestan's territories to the shop's countries and groups
(special prices). Everything it reads or writes goes through a worker."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static
from textual.worker import get_current_worker

from tui_connector.errors import ConnectorError
from tui_connector.sync.session import SettingsForm
from tui_connector.ui.settings.tab import SettingsTab

SHOWN_PRODUCTS = 500  # a search narrows them down


class MappingTab(SettingsTab):
    def compose(self) -> ComposeResult:
        yield Static("Lire la boutique remplit le cache local: rien n'est importé.")
        with Horizontal(classes="buttons"):
            yield Button("Lire la boutique", id="read_categories")
            yield Button("Créer les familles manquantes", id="create_families")
        yield Static("Catégories → familles Gestan (code famille puis Entrée)")
        yield DataTable(id="categories", cursor_type="row")
        yield Input(placeholder="code famille puis Entrée", id="family_code")
        yield Static(
            "Produits de la boutique → produits Gestan, quand les "
            "références diffèrent (code Gestan puis Entrée; vide: délier)"
        )
        yield Input(placeholder="chercher un produit…", id="product_search")
        yield DataTable(id="shop_products", cursor_type="row")
        yield Input(placeholder="code produit Gestan puis Entrée", id="product_code")
        yield Static(
            "Territoires Gestan → pays et groupes de clients de la boutique "
            "(prix spéciaux), par exemple country:BE,country:LU ou group:3"
        )
        yield DataTable(id="territories", cursor_type="row")
        yield Input(placeholder="country:FR,group:3 puis Entrée", id="territory_map")

    def on_mount(self) -> None:
        self.query_one("#categories", DataTable).add_columns("Id", "Catégorie", "Famille")
        self.query_one("#territories", DataTable).add_columns("Territoire", "Libellé", "Boutique")
        self.query_one("#shop_products", DataTable).add_columns(
            "Boutique", "Référence", "Désignation", "Gestan"
        )

    def fill(self, form: SettingsForm) -> None:
        territories = self.query_one("#territories", DataTable)
        territories.clear()
        for code, label, mapped in form.territories:
            territories.add_row(code, label, mapped or "—", key=code)

    # --- the shop's categories and products --------------------------------------------

    @on(Button.Pressed, "#read_categories")
    def read_categories(self) -> None:
        self.notify("Lecture de la boutique…")
        self.mapping_worker("read")

    @on(Button.Pressed, "#create_families")
    def create_families(self) -> None:
        self.mapping_worker("families")

    @work(thread=True, exclusive=True, group="mapping", exit_on_error=False)
    def mapping_worker(self, what: str) -> None:
        session = self.screen.session
        try:
            if what == "read":
                message = "Cache: " + session.refresh_mapping_cache()
            else:
                made = session.create_missing_families()
                message = f"Familles créées: {', '.join(made) or 'aucune'}"
            categories = session.categories()
            products = session.products_for_linking()
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        if not get_current_worker().is_cancelled:  # a later one shows what is current
            self.app.call_from_thread(self._show_mapping, categories, products, message)

    def _show_mapping(self, categories, products, message: str) -> None:
        self.notify(message)
        table = self.query_one("#categories", DataTable)
        table.clear()
        for cid, name, depth, family in categories:
            table.add_row(str(cid), "  " * (depth - 2) + name, family or "—", key=str(cid))
        self._show_products(products)

    def _show_products(self, products) -> None:
        table = self.query_one("#shop_products", DataTable)
        table.clear()
        for item in products[:SHOWN_PRODUCTS]:
            table.add_row(
                f"{item.shop_id}/{item.shop_sub_id}" if item.shop_sub_id else str(item.shop_id),
                item.code,
                item.label[:40],
                item.linked_to or "—",
                key=f"{item.shop_id}:{item.shop_sub_id}",
            )

    @on(Input.Changed, "#product_search")
    def search_products(self, event: Input.Changed) -> None:
        self.search_worker(event.value.strip())

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(self, search: str) -> None:
        products = self.screen.session.products_for_linking(search)
        # a cancelled thread still runs to its end: only the last key's search is shown
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_products, products)

    @on(Input.Submitted, "#product_code")
    def link_product(self, event: Input.Submitted) -> None:
        table = self.query_one("#shop_products", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        shop_id, shop_sub_id = (int(part) for part in key.split(":"))
        search = self.query_one("#product_search", Input).value.strip()
        self.link_worker(shop_id, shop_sub_id, event.value.strip(), search)
        event.input.value = ""

    @work(thread=True, exclusive=True, group="mapping", exit_on_error=False)
    def link_worker(self, shop_id: int, shop_sub_id: int, code: str, search: str) -> None:
        session = self.screen.session
        try:
            if code:
                session.link_product(shop_id, shop_sub_id, code)
                message = f"Produit {shop_id} lié à {code}"
            else:
                session.unlink_product(shop_id, shop_sub_id)
                message = f"Lien du produit {shop_id} défait"
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        products = session.products_for_linking(search)
        self.app.call_from_thread(self.notify, message)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_products, products)

    # --- families and territories, saved as settings -----------------------------------

    @on(Input.Submitted, "#family_code")
    def map_category(self, event: Input.Submitted) -> None:
        table = self.query_one("#categories", DataTable)
        if not table.row_count:
            return
        category = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        self.save_worker("family_code", "categories", category, f"family.{category}", event.value)

    @on(Input.Submitted, "#territory_map")
    def map_territory(self, event: Input.Submitted) -> None:
        table = self.query_one("#territories", DataTable)
        if not table.row_count:
            self.notify("Aucun territoire dans Gestan.", severity="warning")
            return
        code = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        self.save_worker("territory_map", "territories", code, f"territory.{code}", event.value)

    @work(thread=True, exclusive=False, group="mapping-save", exit_on_error=False)
    def save_worker(self, box: str, table_id: str, row: str, key: str, value: str) -> None:
        session = self.screen.session
        try:
            session.save_settings([(key, value.strip())], [])
            stored = session.setting(key) or "—"  # as Gestan keeps it (a territory tidied)
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.app.call_from_thread(self._show_saved, box, table_id, row, stored)

    def _show_saved(self, box: str, table_id: str, row: str, stored: str) -> None:
        self.query_one(f"#{box}", Input).value = ""  # kept to be corrected when refused
        table = self.query_one(f"#{table_id}", DataTable)
        if row in table.rows:  # the shop may have been read again meanwhile
            table.update_cell(row, table.ordered_columns[2].key, stored)
        self.notify("Paramètres enregistrés.")
