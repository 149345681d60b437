"""Tariffs, field by field, between 2.1.1, 2.2.1 and 2.3.0."""

import pytest

from domain.translation import TranslationContext
from domain.values import PartyRef
from tests.unit.translation.examples import (
    ABSENT,
    APPROXIMATED,
    DEFAULTED,
    DROPPED,
    ELEMENT,
    TARIFF_211,
    TARIFF_221,
    TARIFF_230,
    Case,
    run,
)

CPO = TranslationContext(owner=PartyRef("NL", "CPO"))
UP = {"kind": "Tariff", "source": "2.1.1", "target": "2.2.1", "example": TARIFF_211}
DOWN = {"kind": "Tariff", "source": "2.2.1", "target": "2.1.1", "example": TARIFF_221}
TO_230 = {"kind": "Tariff", "source": "2.2.1", "target": "2.3.0", "example": TARIFF_221}
FROM_230 = {"kind": "Tariff", "source": "2.3.0", "target": "2.2.1", "example": TARIFF_230}
BY_CURRENT = {**ELEMENT, "restrictions": {"max_current": 16}}
RESERVATION = {**ELEMENT, "restrictions": {"reservation": "RESERVATION"}}

CASES = [
    Case("the owner is the CPO of the connection", **UP, context=CPO,
         expect={"country_code": "NL", "party_id": "CPO"}),
    Case("elements are carried unchanged", **UP, context=CPO, expect={"elements": [ELEMENT]}),
    Case("the tariff type is dropped", **DOWN, patch={"type": "PROFILE_GREEN"},
         losses=(("type", DROPPED, "PROFILE_GREEN", None),)),
    Case("price limits are dropped", **DOWN, patch={"max_price": {"excl_vat": 20}},
         losses=(("max_price", DROPPED, {"excl_vat": 20}, None),)),
    Case("the validity window is dropped", **DOWN,
         patch={"start_date_time": "2025-01-01T00:00:00Z"},
         losses=(("start_date_time", DROPPED, "2025-01-01T00:00:00Z", None),)),
    Case("a component's vat is dropped", **DOWN,
         patch={"elements[0].price_components[0].vat": 21},
         losses=(("elements[0].price_components[0].vat", DROPPED, 21, None),)),
    Case("an element restricted by current is left out", **DOWN,
         patch={"elements": [BY_CURRENT, ELEMENT]}, expect={"elements": [ELEMENT]},
         losses=(("elements[0]", DROPPED, BY_CURRENT, None),)),
    Case("a reservation element is left out", **DOWN,
         patch={"elements": [ELEMENT, RESERVATION]}, expect={"elements": [ELEMENT]},
         losses=(("elements[1]", DROPPED, RESERVATION, None),)),
    Case("a tariff of reservation elements only is refused", **DOWN,
         patch={"elements": [RESERVATION]}, refused="nothing_left"),
    Case("2.2.1 price limits are 2.3.0 price limits", **TO_230,
         patch={"min_price": {"excl_vat": 1, "incl_vat": 1.21}},
         expect={"min_price": {"before_taxes": 1, "after_taxes": 1.21}}),
    Case("2.2.1 prices are said to exclude taxes", **TO_230, expect={"tax_included": "NO"}),
    Case("a 2.2.1 PATCH-like partial tariff gets no tax_included", "Tariff", "2.2.1", "2.3.0",
         example={"currency": "EUR"}, partial=True, expect={"tax_included": ABSENT}),
    Case("2.3.0 price limits are 2.2.1 prices", **FROM_230,
         patch={"max_price": {"before_taxes": 10, "after_taxes": 12.1}},
         expect={"max_price": {"excl_vat": 10, "incl_vat": 12.1}}),
    Case("the preauthorisation amount is dropped", **FROM_230,
         patch={"preauthorize_amount": 50},
         losses=(("preauthorize_amount", DROPPED, 50, None),)),
    Case("tax_included NO is what 2.2.1 prices mean", **FROM_230,
         expect={"tax_included": ABSENT, "elements": [ELEMENT]}),
    Case("tax_included N/A is dropped", **FROM_230, patch={"tax_included": "N/A"},
         losses=(("tax_included", DROPPED, "N/A", None),)),
    Case("tax-inclusive prices are made net with their vat", **FROM_230,
         patch={"tax_included": "YES", "elements[0].price_components[0].price": 0.363,
                "elements[0].price_components[0].vat": 21},
         expect={"elements[0].price_components[0].price": 0.3},
         losses=(("tax_included", APPROXIMATED, "YES", "NO"),
                 ("elements[0].price_components[0].price", APPROXIMATED, 0.363, 0.3))),
    Case("tax-inclusive prices without a vat rate are refused", **FROM_230,
         patch={"tax_included": "YES"}, refused="tax_rate_unknown"),
]  # fmt: skip


def test_2_2_1_tariffs_are_reported_defaulted_to_tax_exclusive():
    from domain.translation import translate

    result = translate("Tariff", TARIFF_221, "2.2.1", "2.3.0")
    assert [(loss.path, loss.kind, loss.target_value) for loss in result.losses] == [
        ("tax_included", DEFAULTED, "NO")
    ]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_tariff_field(case):
    run(case)
