"""Divers: what to show, invoices, accounting accounts, and the seller on each invoice."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Button, Input, Label

from tui_connector.sync.session import SettingsForm
from tui_connector.ui.settings.tab import SettingsTab, field_id
from tui_connector.ui.widgets import Tick

# The payment modules of a PrestaShop install; the money of each may go to its own account.
PAYMENT_MODULES = [
    ("ps_checkpayment", "Chèque"),
    ("ps_wirepayment", "Virement bancaire"),
    ("ps_cashondelivery", "Paiement à la livraison"),
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


class MiscTab(SettingsTab):
    TICKS = [
        ("display.only_new", "Seulement les lignes non importées"),
        ("orders.customer_id_only", "Commandes: numéro de client seulement (plus rapide)"),
        ("invoices.create", "Créer les factures"),
        ("invoices.mark_paid", "Marquer payées les commandes payées"),
        ("accounting.enabled", "Écritures comptables"),
    ]
    ACCOUNTS = [
        ("accounting.bank_account", "Compte de banque"),
        ("accounting.default_account", "Compte d'imputation par défaut"),
    ]
    LOOKBACK = [
        (
            "orders.lookback_days",
            "Jours relus avant la dernière importation (commandes parues tard)",
        )
    ]
    TEXTS = ACCOUNTS + INVOICING + LOOKBACK + COMPANY

    @classmethod
    def setting_keys(cls) -> list[str]:
        return [*super().setting_keys(), *(f"payment.{module}" for module, _ in PAYMENT_MODULES)]

    def compose(self) -> ComposeResult:
        for key, label in self.TICKS:
            yield Tick(label, id=field_id(key))
        for key, label in self.ACCOUNTS:
            yield Label(label)
            yield Input(id=field_id(key))
        for module, label in PAYMENT_MODULES:
            yield Label(f"Compte des règlements: {label} (vide: la banque)")
            yield Input(placeholder="512", id=f"payment_{module}")
        for key, label in INVOICING + self.LOOKBACK:
            yield Label(label)
            yield Input(id=field_id(key))
        yield Label("Le vendeur, sur chaque facture", classes="section")
        for key, label in COMPANY:
            yield Label(label)
            yield Input(id=field_id(key))
        yield Button("Enregistrer", id="save_misc", variant="primary")

    def fill(self, form: SettingsForm) -> None:
        super().fill(form)
        for module, _ in PAYMENT_MODULES:
            value = form.values.get(f"payment.{module}")
            self.query_one(f"#payment_{module}", Input).value = value or ""

    def changes(self, form: SettingsForm) -> tuple[list[tuple[str, str]], list[str]]:
        pairs, unset_keys = super().changes(form)
        for module, _ in PAYMENT_MODULES:  # emptied: the bank account again
            key = f"payment.{module}"
            value = self.query_one(f"#payment_{module}", Input).value.strip()
            if value:
                pairs.append((key, value))
            elif form.values.get(key):
                unset_keys.append(key)
        return pairs, unset_keys
