"""Every difference between Webservice versions, in one place.

The thresholds below are read by the client (through `Capabilities`) and by
the simulator, which answers as each version does: one set of facts.

- 1.5 is the oldest Webservice we speak; below it, nothing works.
- JSON output (`output_format=JSON`) exists from 1.7; older shops answer XML.
- PATCH exists from 8; older shops need a read-modify-PUT.
- A bad filter, display or sort: 400 on the first 8.1.2 shop; 500 with the
  same error plus four PHP warnings (code 3) on 9.0.0 and on the second
  8.1.2 shop (its PHP reports warnings). The client reads the codes, never
  the status (transport.classify); the simulator answers 500 from 9.
- 9's root no longer lists the supply orders and warehouse locations, and
  lists `order_returns` (tests/fixtures/prestashop/9.0.0/README.md).
- Association item names changed in 1.6.1: we never guess them, we take
  them from the shop's own `?schema=blank` (see codec.Schema.associations).
- 9 adds a separate Admin API but keeps this Webservice as it is; we use
  only the Webservice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_connector.prestashop.errors import UnsupportedVersion

MINIMUM = (1, 5)
# the releases the simulator plays (`simulator --version`), each a real shop's
SIMULATED = {"1.6": "1.6.1.24", "1.7": "1.7.8.11", "8": "8.1.2", "9": "9.0.0"}
JSON_OUTPUT_FROM = (1, 7)
PATCH_FROM = (8,)
QUERY_ERRORS_AS_500_FROM = (9,)
ROOT_CHANGED_IN = (9,)
GONE_FROM_ROOT_IN_9 = frozenset(
    {
        "supply_order_details",
        "supply_order_histories",
        "supply_order_receipt_histories",
        "supply_order_states",
        "supply_orders",
        "warehouse_product_locations",
    }
)
NEW_IN_ROOT_IN_9 = frozenset({"order_returns"})


def parse_version(header: str | None) -> tuple[int, ...]:
    """'8.1.2' -> (8, 1, 2); refuses what is not a PrestaShop version."""
    if not header or not re.fullmatch(r"\d+(\.\d+)*", header.strip()):
        raise UnsupportedVersion(
            f"le serveur n'a pas dit quel PrestaShop il est (PSWS-Version: {header!r})",
            hint="vérifiez l'adresse de la boutique: c'est son adresse de base, ni /admin ni /api",
        )
    return tuple(int(part) for part in header.strip().split("."))


@dataclass(frozen=True)
class Capabilities:
    """What one shop's version can do, and how it answers where versions differ."""

    version: tuple[int, ...]

    @property
    def label(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def json_output(self) -> bool:
        return self.version >= JSON_OUTPUT_FROM

    @property
    def patch(self) -> bool:
        return self.version >= PATCH_FROM

    @property
    def query_error_status(self) -> int:
        """The status of the answer to a bad filter, display or sort."""
        return 500 if self.version >= QUERY_ERRORS_AS_500_FROM else 400

    @property
    def gone_from_root(self) -> frozenset[str]:
        """Resources older versions list at /api/ and this one does not."""
        return GONE_FROM_ROOT_IN_9 if self.version >= ROOT_CHANGED_IN else frozenset()

    @property
    def new_in_root(self) -> frozenset[str]:
        return NEW_IN_ROOT_IN_9 if self.version >= ROOT_CHANGED_IN else frozenset()


def capabilities(header: str | None) -> Capabilities:
    version = parse_version(header)
    if version == (0,):  # what a 401 says: not a version at all
        raise UnsupportedVersion("la boutique a répondu sans version (PSWS-Version: 0)")
    if version < MINIMUM:
        raise UnsupportedVersion(
            f"PrestaShop {'.'.join(map(str, version))} est antérieur à 1.5, dont tui-connector "
            "a besoin du Webservice",
            hint="mettez la boutique à jour en 1.5 ou plus récent",
        )
    return Capabilities(version)
