"""What the terminal application needs, behind one object: it never speaks HTTP or SQL itself.

Every method may block (network, database): the UI calls them from thread workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from tui_connector import config, paths
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import open_database
from tui_connector.labels import OUTCOME_WORDS, RUN_WORDS
from tui_connector.prestashop.check import CheckReport, check
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.sync import mapping
from tui_connector.sync.core import Flow, Report
from tui_connector.sync.orders import cursor_value, reset_cursor
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.runner import flow_needs, make_client, make_flow


@dataclass(frozen=True)
class SettingsForm:
    values: dict[str, object]  # setting key → its value (a bool for a tick)
    civilities: list[str]  # Gestan's civility codes
    territories: list[tuple[str, str, str]]  # code, label, the shop's side it stands for


def report_title(report: Report) -> str:
    flow = FLOWS.get(report.flow)
    title = f"Rapport · {flow.title if flow else report.flow}"
    return title + (" · arrêté" if report.stopped else "")


def report_counts(report: Report) -> str:
    counts = report.counts
    return (
        f"créés {counts['created']} · mis à jour {counts['updated']} · "
        f"laissés {counts['skipped']} · erreurs {counts['failed']} · "
        f"bloqués {counts['blocked']}"
    )


def report_rows(report: Report, *, worst_first: bool = True) -> list[list[str]]:
    """Each result as the report shows it: outcome, code, name, invoice, reason; the
    failed and blocked first on the screen, in the run's order in the saved file."""
    results = report.results
    if worst_first:
        results = sorted(results, key=lambda r: r.outcome not in ("failed", "blocked"))
    return [
        [
            OUTCOME_WORDS[result.outcome],
            result.code or str(result.shop_id or result.gestan_id or ""),
            result.name,
            result.invoice or "",
            result.message,
        ]
        for result in results
    ]


@dataclass
class RunSummary:
    flow: str
    when: str
    counts: str


class Session:
    def __init__(self, profile: config.Profile):
        self.profile = profile
        self.database_url = profile.effective_database_url()
        self.database = open_database(self.database_url)
        self.version = ""

    # --- labels -------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return bool(self.profile.shop_url and self.profile.api_key)

    @property
    def shop_host(self) -> str:
        return urlparse(self.profile.shop_url).hostname or "(aucune boutique)"

    @property
    def database_label(self) -> str:
        parsed = urlparse(self.database_url)
        if parsed.scheme.startswith("sqlite"):
            return Path(parsed.path).name
        return f"{parsed.scheme.split('+')[0]}:{parsed.path.lstrip('/')}"

    # --- shop -----------------------------------------------------------------------

    def client(self) -> SyncWebservice:
        return make_client(self.profile)

    def check(self) -> CheckReport:
        with self.client() as client:
            report = client.run(check(client.aio, flow_needs()))
        self.version = report.version
        return report

    def flow(self, name: str, client: SyncWebservice, **options) -> Flow:
        return make_flow(name, client, **options)

    def refresh_mapping_cache(self) -> str:
        with self.client() as client:
            counts = mapping.refresh_cache(client)
        return ", ".join(f"{n} {name}" for name, n in counts.items())

    def categories(self) -> list[tuple[int, str, int, str]]:
        """(id, name, depth, Gestan family) of the shop's categories from the cache, for
        the mapping tab."""
        families = settings.family_keys("family.")
        return [
            (cid, name, depth, families.get(str(cid), ""))
            for cid, name, depth in mapping.cached_categories()
            if depth >= 2
        ]

    def products_for_linking(self, search: str = "") -> list[mapping.CachedProduct]:
        return mapping.cached_products(search)

    def link_product(self, shop_id: int, shop_sub_id: int, gestan_code: str) -> None:
        with self.client() as client:
            mapping.link_product_by_hand(client, shop_id, shop_sub_id, gestan_code)

    def unlink_product(self, shop_id: int, shop_sub_id: int) -> bool:
        return mapping.unlink_product(shop_id, shop_sub_id)

    def create_missing_families(self) -> list[str]:
        with self.client() as client:
            return mapping.create_missing_families(client)

    def genders_in_use(self) -> list[mapping.GenderUse]:
        with self.client() as client:
            return mapping.genders_in_use(client)

    # --- Gestan ---------------------------------------------------------------------

    def last_runs(self) -> dict[str, RunSummary]:
        found: dict[str, RunSummary] = {}
        for run in m.SyncRun.select().order_by(m.SyncRun.id.desc()).limit(200):
            if run.flow in found:
                continue
            counts = [f"{run.created} créés", f"{run.updated} mis à jour"]
            counts += [
                f"{number} {words}"
                for number, words in (
                    (run.failed, "erreurs"),
                    (run.blocked, "bloquées"),
                    (run.skipped, "laissées"),
                )
                if number
            ]
            ending = RUN_WORDS.get(run.status)
            found[run.flow] = RunSummary(
                run.flow,
                run.started_at.strftime("%d/%m %H:%M"),
                " · ".join(counts + ([ending] if ending else [])),
            )
        return found

    def setting(self, key: str):
        return settings.get(key)

    def settings_form(self, keys: list[str]) -> SettingsForm:
        """What the settings screen shows, read at once (from its worker)."""
        return SettingsForm(
            values={key: settings.get(key) for key in keys},
            civilities=self.civilities(),
            territories=self.territories(),
        )

    def save_settings(self, values: list[tuple[str, str]], unset_keys: list[str]) -> None:
        """All of a screen's settings, or none of them when one is wrong."""
        settings.set_many(values, unset_keys=unset_keys)

    def territories(self) -> list[tuple[str, str, str]]:
        """(code, label, the shop's countries and groups it stands for)."""
        mapped = settings.family_keys("territory.")
        return [
            (t.code, t.label, mapped.get(t.code, ""))
            for t in m.Territory.select().order_by(m.Territory.code)
        ]

    def civilities(self) -> list[str]:
        return [c.code for c in m.Civility.select().order_by(m.Civility.code)]

    def orders_cursor(self) -> str:
        value = cursor_value()
        return f"{value[0]} (commande {value[1]})" if value else "aucune importation"

    def reset_orders_cursor(self) -> None:
        reset_cursor()

    def save_report(self, report: Report) -> Path:
        """The report as a text file, in the words of the screen."""
        folder = paths.data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = (report.finished_at or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        path = folder / f"{report.flow}-{stamp}.txt"
        lines = [
            f"{report_title(report)} · {report.started_at:%d/%m/%Y %H:%M}",
            report_counts(report),
        ]
        lines += [report.error] if report.error else []
        lines += [f"note: {note}" for note in report.notes]
        lines += [
            "",
            f"{'Résultat':<10} {'Code / réf.':<20} {'Désignation':<30} {'Facture':<12} Motif",
        ]
        for outcome, code, name, invoice, message in report_rows(report, worst_first=False):
            lines.append(f"{outcome:<10} {code:<20} {name:<30} {invoice:<12} {message}".rstrip())
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
