"""User settings kept in the Gestan database: typed, validated, one registry.

Every key is declared once, below (`tui-connector settings list` shows them).
A key is either fixed (`invoices.create`) or a family with an id
(`civility.<id_gender>`, `family.<ps_category_id>`, `territory.<code>`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_connector.errors import SettingsError
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache

TRUE_WORDS = {"1", "true", "yes", "on", "oui", "vrai"}
FALSE_WORDS = {"0", "false", "no", "off", "non", "faux"}


def _bool(raw: str) -> str:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise ValueError("oui ou non attendu (true/false, 1/0 marchent aussi)")


def _account(raw: str) -> str:
    number = raw.strip().upper()
    if not re.fullmatch(r"[1-8][0-9]{2}[0-9A-Z]{0,17}", number):
        raise ValueError(
            "un numéro de compte du plan comptable est attendu, commençant par ses "
            "3 chiffres (par exemple 512000)"
        )
    return number


def _exists(model, field, what: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        code = raw.strip()
        if code and not model.select().where(field == code).exists():
            raise ValueError(f"{what} Gestan n'a le code {code!r}")
        return code

    return check


def _required(check: Callable[[str], str]) -> Callable[[str], str]:
    def run(raw: str) -> str:
        if not raw.strip():
            raise ValueError("une valeur est nécessaire (unset sur la clé pour l'enlever)")
        return check(raw)

    return run


def _territory(raw: str) -> str:
    """`country:FR,country:BE,group:3` -> the shop's countries (ISO) and customer groups (ids)."""
    tokens = [t.strip() for t in raw.split(",") if t.strip()]
    if not tokens:
        raise ValueError("country:<code ISO> et/ou group:<id> attendus, séparés par des virgules")
    canonical = []
    for token in tokens:
        kind, _, value = token.partition(":")
        kind = kind.strip().lower()
        value = value.strip()
        if kind == "country" and re.fullmatch(r"[A-Za-z]{2}", value):
            canonical.append(f"country:{value.upper()}")
        elif kind == "group" and value.isdigit() and int(value) > 0:
            canonical.append(f"group:{int(value)}")
        else:
            raise ValueError(
                f"{token!r} n'est ni country:<code ISO> (par exemple country:FR) ni group:<id> "
                "(group:3)"
            )
    return ",".join(dict.fromkeys(canonical))


def _siren(raw: str) -> str:
    digits = re.sub(r"\s", "", raw)
    if not digits:
        return ""  # not set
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("un SIREN a 9 chiffres")
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    if total % 10:
        raise ValueError("ce SIREN a une clé de contrôle fausse (Luhn): vérifiez la saisie")
    return digits


def _vat_number(raw: str) -> str:
    """A French VAT number: FR, a 2-digit key, the SIREN (the key checks the SIREN)."""
    value = re.sub(r"[\s.-]", "", raw).upper()
    if not value:
        return ""  # not set
    found = re.fullmatch(r"FR(\d{2})(\d{9})", value)
    if not found:
        raise ValueError(
            "un numéro de TVA français s'écrit FR, 2 chiffres et les 9 chiffres du SIREN"
        )
    key, siren = int(found.group(1)), int(found.group(2))
    if key != (12 + 3 * (siren % 97)) % 97:
        raise ValueError(
            "les 2 chiffres après FR ne correspondent pas au SIREN: vérifiez la saisie"
        )
    return value


def _days(raw: str) -> str:
    value = raw.strip()
    if not value.isdigit() or int(value) > 60:
        raise ValueError("un nombre entier de jours, de 0 à 60")
    return str(int(value))


def _minutes(raw: str) -> str:
    value = raw.strip()
    if not value.isdigit() or int(value) > 24 * 60:
        raise ValueError("un nombre entier de minutes, de 0 (sans limite) à 1440")
    return str(int(value))


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"l'une des valeurs {', '.join(choices)}")
        return value

    return check


def _text(raw: str) -> str:
    return raw.strip()


def _series(raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z0-9-]{1,8}", value):
        raise ValueError("1 à 8 majuscules, chiffres ou tirets")
    return value


@dataclass(frozen=True)
class SettingSpec:
    pattern: str  # the key, or its family with <...>
    kind: str  # bool, text
    default: str
    description: str
    normalise: Callable[[str], str]

    @property
    def regex(self) -> re.Pattern:
        prefix, bracket, _ = self.pattern.partition("<")
        tail = r"[A-Za-z0-9_-]+" if bracket else ""
        return re.compile(re.escape(prefix) + tail + r"\Z")


def _spec(pattern, kind, default, description, normalise=None) -> SettingSpec:
    default_check = _bool if kind == "bool" else _text
    return SettingSpec(pattern, kind, default, description, normalise or default_check)


SPECS: list[SettingSpec] = [
    _spec("sync.addresses", "bool", "true", "importer les adresses des clients"),
    _spec("sync.comments", "bool", "true", "copier les messages et notes des clients"),
    _spec("sync.phones", "bool", "true", "prendre les numéros de téléphone dans les adresses"),
    _spec("sync.cover_images", "bool", "false", "importer l'image de couverture des produits"),
    _spec("sync.attributes", "bool", "false", "importer les groupes et valeurs d'attributs"),
    _spec(
        "shipping.product",
        "text",
        "",
        "code du produit Gestan des lignes de port (vide: le produit générique « Frais de port »)",
        _exists(m.Product, m.Product.code, "aucun produit"),
    ),
    _spec(
        "civility.<id_gender>",
        "text",
        "",
        "civilité Gestan d'un id_gender de la boutique",
        _required(_exists(m.Civility, m.Civility.code, "aucune civilité")),
    ),
    _spec(
        "family.<ps_category_id>",
        "text",
        "",
        "famille Gestan d'une catégorie de la boutique",
        _required(_exists(m.Family, m.Family.code, "aucune famille")),
    ),
    _spec(
        "territory.<code>",
        "text",
        "",
        "pays/groupes de la boutique d'un territoire Gestan",
        _territory,
    ),
    _spec(
        "sync.max_minutes",
        "text",
        "120",
        "une exécution s'arrête entre deux lignes après ce nombre de minutes (0: jamais);"
        " la suivante reprend",
        _minutes,
    ),
    _spec("display.only_new", "bool", "false", "n'afficher que les lignes pas encore importées"),
    _spec("orders.customer_id_only", "bool", "false", "lire les commandes sans le nom des clients"),
    _spec("invoices.create", "bool", "false", "valider une facture pour chaque commande importée"),
    _spec("invoices.mark_paid", "bool", "false", "enregistrer le règlement des commandes payées"),
    _spec("invoices.series", "text", "FA", "préfixe des numéros de facture (série)", _series),
    _spec(
        "invoices.when",
        "text",
        "import",
        "quand une commande est facturée: import (tout de suite) ou paid (une fois son paiement"
        " reçu par la boutique)",
        _one_of("import", "paid"),
    ),
    _spec(
        "invoices.numbering",
        "text",
        "gestan",
        "qui numérote les factures: gestan (sa propre série) ou shop (les numéros de facture et"
        " d'avoir de la boutique, quand la boutique est le système de facturation: Gestan"
        " n'émet aucune facture à lui, seulement l'avoir d'une annulation pour laquelle la"
        " boutique n'a pas fait d'avoir)",
        _one_of("gestan", "shop"),
    ),
    _spec(
        "invoices.shop_prefix",
        "text",
        "",
        "le préfixe que la boutique imprime devant ses numéros de facture (vide: le"
        " PS_INVOICE_PREFIX de la boutique, lu dans translated_configurations)",
    ),
    _spec(
        "invoices.date",
        "text",
        "order",
        "date d'une facture: order (le jour de la commande) ou shop (la date de facture de la"
        " boutique)",
        _one_of("order", "shop"),
    ),
    _spec(
        "invoices.late",
        "text",
        "hold",
        "une commande plus ancienne que la dernière facture de la série: hold (laissée, avec"
        " la raison) ou today (facturée aujourd'hui, après les autres commandes de l'exécution)",
        _one_of("hold", "today"),
    ),
    _spec(
        "orders.lookback_days",
        "text",
        "2",
        "jours avant le dernier import que chaque import de commandes relit, pour les commandes"
        " pas encore liées",
        _days,
    ),
    _spec("accounting.enabled", "bool", "false", "passer les écritures de ventes et de banque"),
    _spec("accounting.bank_account", "text", "512", "compte de banque des règlements", _account),
    _spec(
        "accounting.default_account",
        "text",
        "707",
        "compte de ventes quand aucun compte de famille ne s'applique",
        _account,
    ),
    _spec(
        "payment.<module>",
        "text",
        "",
        "compte de l'argent d'un module de paiement de la boutique (par exemple"
        " payment.ps_checkpayment = 5112); sinon le compte de banque",
        _required(_account),
    ),
    _spec(
        "accounting.eu_account",
        "text",
        "7071",
        "compte de ventes des marchandises vendues sans TVA à des entreprises d'autres pays"
        " de l'UE",
        _account,
    ),
    _spec(
        "accounting.export_account",
        "text",
        "7072",
        "compte de ventes des marchandises exportées hors de l'UE, sans TVA",
        _account,
    ),
    _spec("accounting.shipping_account", "text", "7085", "compte des frais de port", _account),
    _spec("accounting.discount_account", "text", "709", "compte des remises", _account),
    _spec(
        "accounting.sales_journal",
        "text",
        "VE",
        "code du journal des ventes",
        _required(_exists(m.Journal, m.Journal.code, "aucun journal")),
    ),
    _spec(
        "accounting.bank_journal",
        "text",
        "BQ",
        "code du journal de banque",
        _required(_exists(m.Journal, m.Journal.code, "aucun journal")),
    ),
    _spec("company.name", "text", "", "nom du vendeur, imprimé sur les factures"),
    _spec("company.siren", "text", "", "SIREN du vendeur (nom du fichier FEC)", _siren),
    _spec("company.address", "text", "", "adresse du vendeur, imprimée sur les factures"),
    _spec(
        "company.vat_number", "text", "", "numéro de TVA du vendeur (FR + clé + SIREN)", _vat_number
    ),
    _spec("company.legal_form", "text", "", "forme juridique du vendeur (SARL, SAS, EI...)"),
    _spec("company.capital", "text", "", "capital social du vendeur (par exemple 10 000 €)"),
    _spec(
        "company.rcs", "text", "", "immatriculation du vendeur (par exemple RCS Lyon 123 456 789)"
    ),
    _spec(
        "invoices.payment_terms",
        "text",
        "Payée à la commande",
        "conditions de paiement imprimées sur les factures",
    ),
    _spec(
        "invoices.late_wording",
        "text",
        "En cas de retard de paiement: pénalités au taux de trois fois l'intérêt légal et"
        " indemnité forfaitaire de 40 € pour frais de recouvrement (C. com. L441-10)",
        "mention sur les retards de paiement imprimée sur les factures",
    ),
]


def spec_for(key: str) -> SettingSpec:
    for spec in SPECS:
        if spec.regex.match(key):
            return spec
    known = ", ".join(s.pattern for s in SPECS)
    raise SettingsError(f"réglage inconnu {key!r}", hint=f"clés connues: {known}")


def parse(spec: SettingSpec, stored: str) -> Any:
    return stored == "true" if spec.kind == "bool" else stored


def get(key: str) -> Any:
    spec = spec_for(key)
    row = m.Setting.get_or_none(m.Setting.key == key)
    return parse(spec, row.value if row else spec.default)


def get_bool(key: str) -> bool:
    value = get(key)
    if not isinstance(value, bool):
        raise SettingsError(f"{key} n'est pas un réglage oui/non")
    return value


def set_value(key: str, raw: str) -> str:
    """Validate and store a value; returns what was stored."""
    spec = spec_for(key)
    try:
        value = spec.normalise(str(raw))
    except ValueError as exc:
        raise SettingsError(f"valeur invalide pour {key}: {exc}") from None
    with m.database_proxy.atomic():
        # Select first: MariaDB counts changed rows, not matched ones, on UPDATE.
        if m.Setting.select().where(m.Setting.key == key).exists():
            m.Setting.update(value=value).where(m.Setting.key == key).execute()
        else:
            m.Setting.create(key=key, value=value)
    refcache.clear()  # a run's cached answers may depend on it
    if key == "invoices.series":  # its counter exists before the first validation
        m.Sequence.insert(key=f"invoice:{value}", last_value=0).on_conflict_ignore().execute()
    return value


def set_many(values: list[tuple[str, str]], *, unset_keys: list[str] = ()) -> None:
    """Set several keys (and unset others) at once: every value is checked first, and
    nothing is written unless all are right (a settings screen saved in one go)."""
    checked = []
    for key, raw in values:
        spec = spec_for(key)
        try:
            checked.append((key, spec.normalise(str(raw))))
        except ValueError as exc:
            raise SettingsError(f"valeur invalide pour {key}: {exc}") from None
    for key in unset_keys:
        spec_for(key)
    with m.database_proxy.atomic():
        for key, value in checked:
            set_value(key, value)
        for key in unset_keys:
            unset(key)


def unset(key: str) -> None:
    spec_for(key)
    m.Setting.delete().where(m.Setting.key == key).execute()
    refcache.clear()


def family_keys(prefix: str) -> dict[str, str]:
    """All stored keys of a family, e.g. prefix 'civility.' -> {'1': 'M.', ...}."""
    rows = m.Setting.select().where(m.Setting.key.startswith(prefix))
    return {row.key[len(prefix) :]: row.value for row in rows}


def listing() -> list[tuple[str, str, str]]:
    """(key, value, description) for every fixed key and every stored key."""
    stored = {row.key: row.value for row in m.Setting.select()}
    rows = []
    for spec in SPECS:
        if "<" in spec.pattern:
            for key in sorted(k for k in stored if spec.regex.match(k)):
                rows.append((key, stored[key], spec.description))
        else:
            rows.append((spec.pattern, stored.get(spec.pattern, spec.default), spec.description))
    return rows
