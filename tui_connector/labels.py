"""The words a user reads for each row status and outcome: one table for the screens, the
command line and the saved reports. The flows speak codes (`sync.status.Status`,
`sync.core.Outcome`); only this module turns them into French."""

from __future__ import annotations

from tui_connector.sync.status import Status

STATUS_LABELS = {
    Status.UP_TO_DATE: "À jour",
    Status.BLOCKED: "Bloquée",
    Status.CONFLICT: "Conflit",
    Status.UNMANAGED: "Non géré",
    Status.ADD: "Ajout",
    Status.UPDATE: "Mise à jour",
    Status.SKIPPED: "Ignoré",
    Status.IMPORTED: "Déjà importée",
    Status.ADD_GESTAN: "Ajout vers Gestan",
    Status.ADD_SHOP: "Ajout vers PrestaShop",
    Status.UPDATE_GESTAN: "Mise à jour Gestan",
    Status.UPDATE_SHOP: "Mise à jour PrestaShop",
    Status.PAID: "Paiement reçu",
    Status.CANCELLED: "Annulée",
    Status.CREDITED: "Avoir",
    Status.REFUNDED: "Remboursement",
}

# an outcome as a word in a report line, and as the status a row takes once executed
OUTCOME_WORDS = {
    "created": "créé",
    "updated": "mis à jour",
    "skipped": "laissé",
    "failed": "erreur",
    "blocked": "bloqué",
}
# how a run ended, beside its counts (a run that ended well says only its counts)
RUN_WORDS = {
    "stopped": "arrêtée",
    "failed": "échouée",
    "interrupted": "interrompue",
    "running": "en cours",
}
DONE_LABELS = {
    "created": "Fait: créé",
    "updated": "Fait: mis à jour",
    "skipped": "Laissé",
    "failed": "Erreur",
}


def status_label(code: str) -> str:
    """The words for a status code; a code this table does not know (a run line saved by
    an older version, which stored the words) is shown as it is."""
    try:
        return STATUS_LABELS[Status(code)]
    except ValueError:
        return code
