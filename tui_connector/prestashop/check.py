"""What a shop and a key allow, and what each flow would lack (`tui-connector check`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_connector.prestashop.client import ShopRoot, Webservice

# Resource -> methods each flow needs; optional ones only warn.
FLOW_NEEDS: dict[str, dict[str, set[str]]] = {
    "contacts": {"customers": {"get"}, "addresses": {"get"}, "countries": {"get"}},
    "products": {
        "products": {"get", "post", "put"},
        "combinations": {"get", "post", "put"},
        "categories": {"get"},
        "product_options": {"get"},
        "product_option_values": {"get"},
        "tax_rule_groups": {"get"},
        "tax_rules": {"get"},
        "taxes": {"get"},
        "stock_availables": {"get", "put"},
    },
    "stock": {"stock_availables": {"get", "put"}, "products": {"get"}, "combinations": {"get"}},
    "orders": {
        "orders": {"get"},
        "order_details": {"get"},
        "order_states": {"get"},
        "order_payments": {"get"},
        "order_slip": {"get"},
        "order_histories": {"get"},
        "order_cart_rules": {"get"},
        "customers": {"get"},
        "addresses": {"get"},
        "countries": {"get"},
        "taxes": {"get"},
        "carriers": {"get"},
    },
}
OPTIONAL = {
    "products": {"images": {"get", "post"}, "specific_prices": {"get", "post", "put"}},
    # the time zone and state ids (else 8.1 defaults), orders in other currencies, the
    # prefix of the shop's invoice numbers (invoices.numbering = shop)
    "orders": {
        "configurations": {"get"},
        "currencies": {"get"},
        "translated_configurations": {"get"},
        "messages": {"get"},  # customers' messages as comments; without: none
    },
}


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
            f"shop     {self.url}",
            f"version  PrestaShop {self.version}",
            f"auth     {self.auth_mode}",
        ]
        for flow in FLOW_NEEDS:
            lacks = self.missing.get(flow) or []
            lines.append(f"{flow:<9}{'ready' if not lacks else 'missing ' + '; '.join(lacks)}")
        lines += [f"warning  {w}" for w in self.warnings]
        return lines


def missing_for(root: ShopRoot, needs: dict[str, set[str]]) -> list[str]:
    result = []
    for resource, methods in needs.items():
        lacking = sorted(m.upper() for m in methods if not root.allows(resource, m))
        if lacking:
            result.append(f"{resource}: {', '.join(lacking)}")
    return result


async def check(client: Webservice) -> CheckReport:
    root = await client.connect()
    report = CheckReport(
        client.base_url, root.capabilities.label, client.auth_mode, root.permissions
    )
    for flow, needs in FLOW_NEEDS.items():
        report.missing[flow] = missing_for(root, needs)
    for flow, needs in OPTIONAL.items():
        for lack in missing_for(root, needs):
            report.warnings.append(f"{flow}: optional {lack}")
    if not root.capabilities.json_output:
        report.warnings.append("no JSON output before 1.7: reads are slower (XML)")
    return report
