"""Every difference between Webservice versions, in one place.

- 1.5 is the oldest Webservice we speak; below it, nothing works.
- JSON output (`output_format=JSON`) exists from 1.7; older shops answer XML.
- PATCH exists from 8; older shops need a read-modify-PUT.
- Association item names changed in 1.6.1: we never guess them, we take
  them from the shop's own `?schema=blank` (see codec.Schema.associations).
- 9 adds a separate Admin API but keeps this Webservice as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_connector.prestashop.errors import UnsupportedVersion

MINIMUM = (1, 5)


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
    version: tuple[int, ...]

    @property
    def label(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def json_output(self) -> bool:
        return self.version >= (1, 7)

    @property
    def patch(self) -> bool:
        return self.version >= (8,)

    @property
    def admin_api(self) -> bool:
        return self.version >= (9,)


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
