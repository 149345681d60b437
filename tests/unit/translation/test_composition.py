"""2.1.1 <-> 2.3.0 goes through 2.2.1; a translation to the same version changes nothing."""

from domain.translation import LossKind, TranslationContext, translate
from domain.values import PartyRef
from tests.unit.translation.examples import LOCATION_211, TARIFF_211, TARIFF_230


def test_a_2_1_1_tariff_reaches_2_3_0_with_both_steps_reported():
    result = translate(
        "Tariff", TARIFF_211, "2.1.1", "2.3.0", TranslationContext(owner=PartyRef("NL", "CPO"))
    )
    assert result.body == {**TARIFF_230, "country_code": "NL", "party_id": "CPO"}
    assert [(loss.path, loss.kind) for loss in result.losses] == [
        ("tax_included", LossKind.DEFAULTED)
    ]
    assert (result.source, result.target) == ("2.1.1", "2.3.0")


def test_a_2_3_0_location_reaches_2_1_1_losing_what_either_step_cannot_carry():
    location = {key: value for key, value in LOCATION_211.items() if key != "type"}
    location.update(
        country_code="NL",
        party_id="CPO",
        publish=True,
        parking_type="ALONG_MOTORWAY",
        help_phone="+31301234567",
    )
    location["evses"] = [
        {
            **LOCATION_211["evses"][0],
            "connectors": [
                {
                    key: value
                    for key, value in LOCATION_211["evses"][0]["connectors"][0].items()
                    if key not in ("voltage", "amperage", "tariff_id")
                }
                | {"max_voltage": 400, "max_amperage": 16, "tariff_ids": ["T1"]}
            ],
        }
    ]
    result = translate("Location", location, "2.3.0", "2.1.1")
    assert result.body["type"] == "OTHER"
    assert result.body["evses"][0]["connectors"][0]["voltage"] == 400
    assert "help_phone" not in result.body
    assert [(loss.path, loss.kind) for loss in result.losses] == [
        ("help_phone", LossKind.DROPPED),  # 2.3.0 -> 2.2.1
        ("country_code", LossKind.DROPPED),  # 2.2.1 -> 2.1.1
        ("party_id", LossKind.DROPPED),
        ("publish", LossKind.DROPPED),
        ("parking_type", LossKind.APPROXIMATED),
    ]


def test_a_translation_to_its_own_version_is_the_object_itself():
    result = translate("Tariff", TARIFF_230, "2.3.0", "2.3.0")
    assert result.body == TARIFF_230
    assert result.lossless
