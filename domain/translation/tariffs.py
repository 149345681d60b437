"""Tariffs in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.translation.common import V211, V221, V230, decimal, number, owner_finish
from domain.translation.engine import (
    ObjectRule,
    PairRules,
    Unrepresentable,
    Walk,
    derive,
    schema,
    values,
)

_TARIFF_211 = schema(
    """id str(36)!, currency str(3)!, tariff_alt_text DisplayText*, tariff_alt_url url?,
    elements TariffElement+, energy_mix EnergyMix?, last_updated dt!"""
)
_TARIFF_221 = schema(
    """country_code str(2)!, party_id str(3)!, id str(36)!, currency str(3)!, type @TariffType?,
    tariff_alt_text DisplayText*, tariff_alt_url url?, min_price Price?, max_price Price?,
    elements TariffElement+, start_date_time dt?, end_date_time dt?, energy_mix EnergyMix?,
    last_updated dt!"""
)
_RESTRICTIONS_211 = schema(
    """start_time str(5)?, end_time str(5)?, start_date str(10)?, end_date str(10)?,
    min_kwh num?, max_kwh num?, min_power num?, max_power num?, min_duration int?,
    max_duration int?, day_of_week @DayOfWeek*"""
)
_ELEMENT = schema("price_components PriceComponent+, restrictions TariffRestrictions?")
_COMPONENT_211 = schema("type @TariffDimensionType!, price num!, step_size int!")

OBJECTS = {
    V211: {
        "Tariff": _TARIFF_211,
        "TariffElement": _ELEMENT,
        "PriceComponent": _COMPONENT_211,
        "TariffRestrictions": _RESTRICTIONS_211,
    },
    V221: {
        "Tariff": _TARIFF_221,
        "TariffElement": _ELEMENT,
        "PriceComponent": derive(_COMPONENT_211, add="vat num?"),
        "TariffRestrictions": derive(
            _RESTRICTIONS_211,
            add="min_current num?, max_current num?, reservation @ReservationRestrictionType?",
        ),
    },
}
OBJECTS[V230] = {
    **OBJECTS[V221],
    "Tariff": derive(
        _TARIFF_221,
        add="""min_price PriceLimit?, max_price PriceLimit?, preauthorize_amount num?,
        tax_included @TaxIncluded!""",
    ),
    "PriceLimit": schema("before_taxes num!, after_taxes num?"),
}

_SHARED = {
    "TariffDimensionType": values("ENERGY FLAT PARKING_TIME TIME"),
    "DayOfWeek": values("MONDAY TUESDAY WEDNESDAY THURSDAY FRIDAY SATURDAY SUNDAY"),
}
ENUMS = {
    V211: _SHARED,
    V221: {
        **_SHARED,
        "TariffType": values("AD_HOC_PAYMENT PROFILE_CHEAP PROFILE_FAST PROFILE_GREEN REGULAR"),
        "ReservationRestrictionType": values("RESERVATION RESERVATION_EXPIRES"),
    },
}
ENUMS[V230] = {**ENUMS[V221], "TaxIncluded": values("YES NO N/A")}


def _restriction_2_1_1_lacks(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """An element restricted by current or to reservations would apply unrestricted in 2.1.1 and
    misprice every session: the element is left out instead (TariffElement is droppable)."""
    raise Unrepresentable(
        path, "restriction_unknown", f"2.1.1 tariffs cannot restrict by {path.rsplit('.', 1)[-1]}"
    )


def _price_to_limit(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    name = path.rsplit(".", 1)[-1]
    if not isinstance(value, dict):
        out[name] = value
        return
    renamed = {"excl_vat": "before_taxes", "incl_vat": "after_taxes"}
    out[name] = {renamed.get(key, key): member for key, member in value.items()}


def _limit_to_price(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    name = path.rsplit(".", 1)[-1]
    if not isinstance(value, dict):
        out[name] = value
        return
    renamed = {"before_taxes": "excl_vat", "after_taxes": "incl_vat"}
    limit: dict[str, Any] = {}
    for key, member in value.items():
        if key in renamed:
            limit[renamed[key]] = member
        else:
            walk.dropped(f"{path}.{key}", member)
    out[name] = limit


def _tax_included_default(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    """2.2.1 prices are "excl. VAT": a 2.2.1 tariff means tax_included NO without saying it."""
    if walk.partial and walk.at_top:
        return
    if "tax_included" not in out:
        out["tax_included"] = "NO"
        walk.defaulted(f"{path}.tax_included" if path else "tax_included", "NO")


def _tax_included_down(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """Read by `_net_prices`, once the elements are converted; 2.2.1 has no such field."""


def _net_prices(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    """NO is what 2.2.1 prices mean; N/A has no 2.2.1 form; YES prices are made net with each
    component's own vat (refused when a component has none: the rate is not knowable)."""
    value = source.get("tax_included")
    at = f"{path}." if path else ""
    if value is None or value == "NO":
        return
    if value != "YES":
        walk.dropped(f"{at}tax_included", value)
        return
    walk.approximated(f"{at}tax_included", value, "NO")
    for i, element in enumerate(out.get("elements") or []):
        for j, component in enumerate(element.get("price_components") or []):
            where = f"{at}elements[{i}].price_components[{j}]"
            if component.get("vat") is None:
                raise Unrepresentable(
                    f"{where}.vat",
                    "tax_rate_unknown",
                    "a tax-inclusive price without its vat rate cannot be made net for 2.2.1",
                )
            gross = decimal(component["price"])
            rate = Decimal(1) + decimal(component["vat"]) / 100
            net = number((gross / rate).quantize(Decimal("0.0001")))
            walk.approximated(f"{where}.price", component["price"], net)
            component["price"] = net


RULES = {
    (V211, V221): PairRules(objects={"Tariff": ObjectRule(finish=owner_finish)}),
    (V221, V211): PairRules(
        objects={
            "TariffElement": ObjectRule(droppable=True),
            "Tariff": ObjectRule(droppable=True),  # inside a CDR; a top object is never dropped
            "TariffRestrictions": ObjectRule(
                fields={
                    "min_current": _restriction_2_1_1_lacks,
                    "max_current": _restriction_2_1_1_lacks,
                    "reservation": _restriction_2_1_1_lacks,
                }
            ),
        }
    ),
    (V221, V230): PairRules(
        objects={
            "Tariff": ObjectRule(
                fields={"min_price": _price_to_limit, "max_price": _price_to_limit},
                finish=_tax_included_default,
            )
        }
    ),
    (V230, V221): PairRules(
        objects={
            "Tariff": ObjectRule(
                fields={
                    "min_price": _limit_to_price,
                    "max_price": _limit_to_price,
                    "tax_included": _tax_included_down,
                },
                finish=_net_prices,
                droppable=True,
            )
        }
    ),
}
