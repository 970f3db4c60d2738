"""Building the client and the flows from the profile: one place for the CLI and the TUI."""

from __future__ import annotations

import logging

from tui_connector import config
from tui_connector.errors import SettingsError
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.sync.catalogue import create_families_from_categories
from tui_connector.sync.core import Flow
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.shop_facts import read_facts

log = logging.getLogger(__name__)


def flow_needs() -> dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]]:
    """What each flow asks of the Webservice, as the flows declare it: for `check`."""
    return {name: (flow.needs, flow.optional) for name, flow in FLOWS.items()}


def make_client(profile: config.Profile, **kwargs) -> SyncWebservice:
    if not profile.shop_url or not profile.api_key:
        raise SettingsError(
            "aucune boutique n'est configurée",
            hint="tui-connector settings set shop.url https://... puis shop.api_key ...",
        )
    return SyncWebservice(profile.shop_url, profile.api_key, auth_mode=profile.auth_mode, **kwargs)


def make_flow(
    name: str, client: SyncWebservice, *, create_families: bool = False, **options
) -> Flow:
    """The flow `name`, with the options it declares in the registry (the orders' dates)."""
    if name not in FLOWS:
        raise SettingsError(f"flux inconnu {name!r}", hint=f"au choix: {', '.join(FLOWS)}")
    if create_families:
        made = create_families_from_categories(read_facts(client, catalogue=True))
        log.info("familles créées: %s", ", ".join(made) or "aucune")
    return FLOWS[name].make(client, **options)
