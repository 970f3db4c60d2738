"""What a shop and a key allow, and what each flow would lack (`tui-connector check`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_connector.prestashop.client import ShopRoot, Webservice
from tui_connector.prestashop.versions import JSON_OUTPUT_FROM

Needs = dict[str, set[str]]  # resource -> methods


@dataclass
class CheckReport:
    url: str
    version: str
    auth_mode: str
    permissions: dict[str, set[str]]
    missing: dict[str, list[str]] = field(default_factory=dict)  # flow -> "resource: methods"
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not any(self.missing.values())

    def lines(self) -> list[str]:
        lines = [
            f"boutique   {self.url}",
            f"version    PrestaShop {self.version}",
            f"auth       {self.auth_mode}",
        ]
        for flow in self.missing:
            lacks = self.missing.get(flow) or []
            lines.append(f"{flow:<11}{'prêt' if not lacks else 'manque ' + '; '.join(lacks)}")
        lines += [f"attention  {w}" for w in self.warnings]
        return lines


def missing_for(root: ShopRoot, needs: dict[str, set[str]]) -> list[str]:
    result = []
    for resource, methods in needs.items():
        lacking = sorted(m.upper() for m in methods if not root.allows(resource, m))
        if lacking:
            result.append(f"{resource}: {', '.join(lacking)}")
    return result


async def check(client: Webservice, flows: dict[str, tuple[Needs, Needs]]) -> CheckReport:
    """What the key lacks for each flow: `flows` {name: (needs, goes on without)}, as the
    flows declare them (sync.runner.flow_needs)."""
    root = await client.connect()
    report = CheckReport(
        client.base_url, root.capabilities.label, client.auth_mode, root.permissions
    )
    for flow, (needs, optional) in flows.items():
        report.missing[flow] = missing_for(root, needs)
        for lack in missing_for(root, optional):
            report.warnings.append(f"{flow}: facultatif {lack}")
    if not root.capabilities.json_output:
        since = ".".join(map(str, JSON_OUTPUT_FROM))
        report.warnings.append(
            f"pas de sortie JSON avant {since}: les lectures sont plus lentes (XML)"
        )
    return report
