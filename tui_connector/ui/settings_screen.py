"""Settings as tabs: Webservice, Civilités, Options, Mappage, Divers. Saved to Gestan."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
)

from tui_connector import config
from tui_connector.errors import ConnectorError
from tui_connector.ui.modals import ShowsWorkerErrors
from tui_connector.ui.widgets import KeyFooter, Page, Tick

OPTIONS = [
    ("sync.addresses", "Adresses"),
    ("sync.comments", "Commentaires"),
    ("sync.phones", "Téléphones"),
    ("sync.cover_images", "Images de couverture"),
    ("sync.attributes", "Attributs (groupes et valeurs)"),
]
MISC = [
    ("display.only_new", "Seulement les lignes non importées"),
    ("orders.customer_id_only", "Commandes: numéro de client seulement (plus rapide)"),
    ("invoices.create", "Créer les factures"),
    ("invoices.mark_paid", "Marquer payées les commandes payées"),
    ("accounting.enabled", "Écritures comptables"),
]
INVOICING = [
    ("invoices.when", "Facturer: import (à l'import) ou paid (une fois payée)"),
    ("invoices.date", "Date de facture: order (la commande) ou shop (celle de la boutique)"),
    ("invoices.late", "Commande antérieure à la dernière facture: hold (gardée) ou today"),
    ("invoices.numbering", "Numéros: gestan (sa série) ou shop (ceux de la boutique)"),
    ("invoices.shop_prefix", "Préfixe des factures de la boutique (vide: le sien, lu)"),
    ("sync.max_minutes", "Une exécution s'arrête après tant de minutes (0: jamais)"),
    ("accounting.eu_account", "Compte des ventes sans TVA à des entreprises de l'UE"),
    ("accounting.export_account", "Compte des ventes à l'exportation"),
]
# The seller's identity, printed on invoices and kept with each when it is validated
COMPANY = [
    ("company.name", "Raison sociale"),
    ("company.address", "Adresse"),
    ("company.siren", "SIREN"),
    ("company.vat_number", "N° de TVA intracommunautaire"),
    ("company.legal_form", "Forme juridique"),
    ("company.capital", "Capital"),
    ("company.rcs", "RCS"),
    ("invoices.payment_terms", "Conditions de paiement"),
    ("invoices.late_wording", "Pénalités de retard"),
]
# The payment modules of a PrestaShop install; the money of each may go to its own account.
PAYMENT_MODULES = [
    ("ps_checkpayment", "Chèque"),
    ("ps_wirepayment", "Virement bancaire"),
    ("ps_cashondelivery", "Paiement à la livraison"),
]


class SettingsScreen(ShowsWorkerErrors, Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour"),
        Binding("ctrl+s", "save", "Enregistrer"),
    ]

    def __init__(self, session, *, tab: str = "webservice"):
        super().__init__()
        self.session = session
        self.first_tab = tab

    def compose(self) -> ComposeResult:
        yield Static(" tui-connector · paramètres", id="title")
        profile = self.session.profile
        with TabbedContent(initial=self.first_tab):
            with TabPane("Webservice", id="webservice"), Page():
                yield Label("Adresse de la boutique")
                yield Input(
                    profile.shop_url, placeholder="https://boutique.example.fr", id="shop_url"
                )
                yield Label("Clé du Webservice (laissez vide pour garder l'actuelle)")
                yield Input(
                    "", password=True, placeholder=profile.api_key.masked() or "clé", id="api_key"
                )
                with Horizontal(classes="buttons"):
                    yield Button("Enregistrer", id="save_shop", variant="primary")
                    yield Button("Tester", id="test")
                yield Static("", id="test_result")
            with TabPane("Civilités", id="civilities"), Page():
                yield Static(
                    "id_gender de la boutique → civilité Gestan "
                    f"({', '.join(self.session.civilities())})"
                )
                yield Button("Lire les id_gender utilisés", id="read_genders")
                yield Static("", id="genders")
                for gender, default in (("1", "M."), ("2", "Mme")):
                    stored = self.session.setting(f"civility.{gender}") or ""
                    yield Label(f"id_gender {gender}" + ("" if stored else " (non réglé)"))
                    yield Input(stored, placeholder=default, id=f"civility_{gender}")
            with TabPane("Options", id="options"), Page():
                for key, label in OPTIONS:
                    yield Tick(label, self.session.setting(key), id=key.replace(".", "_"))
                yield Label("Produit des frais de port (code Gestan, vide: « Frais de port »)")
                yield Input(self.session.setting("shipping.product"), id="shipping_product")
            with TabPane("Mappage", id="mapping"), Page():
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
            with TabPane("Divers", id="misc"), Page():
                for key, label in MISC:
                    yield Tick(label, self.session.setting(key), id=key.replace(".", "_"))
                yield Label("Compte de banque")
                yield Input(self.session.setting("accounting.bank_account"), id="bank_account")
                yield Label("Compte d'imputation par défaut")
                yield Input(
                    self.session.setting("accounting.default_account"), id="default_account"
                )
                for module, label in PAYMENT_MODULES:
                    yield Label(f"Compte des règlements: {label} (vide: la banque)")
                    yield Input(
                        self.session.setting(f"payment.{module}"),
                        placeholder="512",
                        id=f"payment_{module}",
                    )
                for key, label in INVOICING:
                    yield Label(label)
                    yield Input(self.session.setting(key), id=key.replace(".", "_"))
                yield Label("Jours relus avant la dernière importation (commandes parues tard)")
                yield Input(self.session.setting("orders.lookback_days"), id="lookback_days")
                yield Label("Le vendeur, sur chaque facture", classes="section")
                for key, label in COMPANY:
                    yield Label(label)
                    yield Input(self.session.setting(key), id=key.replace(".", "_"))
                yield Button("Enregistrer", id="save_misc", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#categories", DataTable).add_columns("Id", "Catégorie", "Famille")
        territories = self.query_one("#territories", DataTable)
        territories.add_columns("Territoire", "Libellé", "Boutique")
        for code, label, mapped in self.session.territories():
            territories.add_row(code, label, mapped or "—", key=code)
        self.query_one("#shop_products", DataTable).add_columns(
            "Boutique", "Référence", "Désignation", "Gestan"
        )

    # --- saving --------------------------------------------------------------------

    def _save(
        self, pairs: list[tuple[str, str]], unset_keys: list[str] = (), *, quiet: bool = False
    ) -> bool:
        try:
            self.session.save_settings(pairs, list(unset_keys))
        except ConnectorError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return False
        if not quiet:
            self.notify("Paramètres enregistrés.")
        return True

    def action_save(self) -> None:
        """Every tab at once: the shop's address and key checked first, then Gestan's
        settings all or none, then the profile; nothing saved if one value is wrong."""
        try:
            url = config.validate_shop_url(self.query_one("#shop_url", Input).value)
            api_key = self.query_one("#api_key", Input).value
            if api_key:
                config.validate_api_key(api_key)
        except ConnectorError as exc:
            self.query_one(TabbedContent).active = "webservice"
            self.notify(str(exc), severity="error", timeout=8)
            return
        pairs = [
            (
                key,
                "true" if self.query_one(f"#{key.replace('.', '_')}", Checkbox).value else "false",
            )
            for key, _ in OPTIONS + MISC
        ]
        pairs += [
            ("shipping.product", self.query_one("#shipping_product", Input).value),
            ("accounting.bank_account", self.query_one("#bank_account", Input).value),
            ("accounting.default_account", self.query_one("#default_account", Input).value),
            ("orders.lookback_days", self.query_one("#lookback_days", Input).value),
        ]
        pairs += [
            (key, self.query_one(f"#{key.replace('.', '_')}", Input).value)
            for key, _ in INVOICING + COMPANY
        ]
        unset_keys = []
        for module, _ in PAYMENT_MODULES:  # emptied: the bank account again
            value = self.query_one(f"#payment_{module}", Input).value.strip()
            if value:
                pairs.append((f"payment.{module}", value))
            elif self.session.setting(f"payment.{module}"):
                unset_keys.append(f"payment.{module}")
        for gender in ("1", "2"):
            value = self.query_one(f"#civility_{gender}", Input).value.strip()
            if value:
                pairs.append((f"civility.{gender}", value))
        if self._save(pairs, unset_keys, quiet=True):
            self._save_shop(url, api_key, said="Paramètres et connexion enregistrés")

    @on(Button.Pressed, "#save_misc")
    def save_misc(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save_shop")
    def save_shop(self) -> None:
        self._save_shop(
            self.query_one("#shop_url", Input).value, self.query_one("#api_key", Input).value
        )

    def _save_shop(self, url: str, key: str, *, said: str = "Connexion enregistrée") -> None:
        try:
            if url != self.session.profile.shop_url:
                self.session.profile = config.set_profile_value("shop.url", url)
            if key:
                self.session.profile = config.set_profile_value("shop.api_key", key)
                self.query_one("#api_key", Input).value = ""
        except ConnectorError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify(f"{said} (profil en 0600).")

    @on(Button.Pressed, "#test")
    def test(self) -> None:
        self.query_one("#test_result", Static).update("test en cours…")
        self.test_worker()

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def test_worker(self) -> None:
        try:
            text = "\n".join(self.session.check().lines())
        except ConnectorError as exc:
            text = f"Erreur: {exc}"
        self.app.call_from_thread(self.query_one("#test_result", Static).update, text)

    @on(Button.Pressed, "#read_categories")
    def read_categories(self) -> None:
        self.notify("Lecture de la boutique…")
        self.mapping_worker("read")

    @on(Button.Pressed, "#create_families")
    def create_families(self) -> None:
        self.mapping_worker("families")

    @work(thread=True, exclusive=True, group="mapping", exit_on_error=False)
    def mapping_worker(self, what: str) -> None:
        try:
            if what == "read":
                message = "Cache: " + self.session.refresh_mapping_cache()
            else:
                made = self.session.create_missing_families()
                message = f"Familles créées: {', '.join(made) or 'aucune'}"
            categories = self.session.categories()
            products = self.session.products_for_linking()
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.app.call_from_thread(self._show_mapping, categories, products, message)

    def _show_mapping(self, categories, products, message: str) -> None:
        self.notify(message)
        table = self.query_one("#categories", DataTable)
        table.clear()
        for cid, name, depth in categories:
            family = self.session.setting(f"family.{cid}") or "—"
            table.add_row(str(cid), "  " * (depth - 2) + name, family, key=str(cid))
        self._show_products(products)

    def _show_products(self, products) -> None:
        table = self.query_one("#shop_products", DataTable)
        table.clear()
        for item in products[:500]:
            table.add_row(
                f"{item.shop_id}/{item.shop_sub_id}" if item.shop_sub_id else str(item.shop_id),
                item.code,
                item.label[:40],
                item.linked_to or "—",
                key=f"{item.shop_id}:{item.shop_sub_id}",
            )

    @on(Input.Changed, "#product_search")
    def search_products(self, event: Input.Changed) -> None:
        self._show_products(self.session.products_for_linking(event.value.strip()))

    @on(Input.Submitted, "#family_code")
    def map_category(self, event: Input.Submitted) -> None:
        table = self.query_one("#categories", DataTable)
        if not table.row_count:
            return
        category = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if self._save([(f"family.{category}", event.value)]):
            table.update_cell(category, table.ordered_columns[2].key, event.value.strip())
            event.input.value = ""

    @on(Input.Submitted, "#territory_map")
    def map_territory(self, event: Input.Submitted) -> None:
        table = self.query_one("#territories", DataTable)
        if not table.row_count:
            self.notify("Aucun territoire dans Gestan.", severity="warning")
            return
        code = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        value = event.value.strip()
        if self._save([(f"territory.{code}", value)]):
            table.update_cell(
                code, table.ordered_columns[2].key, self.session.setting(f"territory.{code}")
            )
            event.input.value = ""

    @on(Input.Submitted, "#product_code")
    def link_product(self, event: Input.Submitted) -> None:
        table = self.query_one("#shop_products", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        shop_id, shop_sub_id = (int(part) for part in key.split(":"))
        self.link_worker(shop_id, shop_sub_id, event.value.strip())
        event.input.value = ""

    @work(thread=True, exclusive=True, group="mapping", exit_on_error=False)
    def link_worker(self, shop_id: int, shop_sub_id: int, code: str) -> None:
        try:
            if code:
                self.session.link_product(shop_id, shop_sub_id, code)
                message = f"Produit {shop_id} lié à {code}"
            else:
                self.session.unlink_product(shop_id, shop_sub_id)
                message = f"Lien du produit {shop_id} défait"
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        products = self.session.products_for_linking(
            self.query_one("#product_search", Input).value.strip()
        )
        self.app.call_from_thread(self.notify, message)
        self.app.call_from_thread(self._show_products, products)

    @on(Button.Pressed, "#read_genders")
    def read_genders(self) -> None:
        self.genders_worker()

    @work(thread=True, exclusive=True, group="genders", exit_on_error=False)
    def genders_worker(self) -> None:
        try:
            uses = self.session.genders_in_use()
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        lines = [
            f"id_gender {u.id_gender}: {u.customers} clients → "
            + (
                u.civility
                or (
                    "(aucune civilité)"
                    if u.id_gender == "0"
                    else "NON RÉGLÉ: saisissez une civilité ci-dessous"
                )
            )
            for u in uses
        ]
        self.app.call_from_thread(self.query_one("#genders", Static).update, "\n".join(lines))
