"""Types every module uses (DisplayText, Price) and the money rules between the three versions.

Money (digest §4): 2.1.1 writes an amount as a bare number excluding VAT, 2.2.1 as
`Price{excl_vat, incl_vat?}`, 2.3.0 as `Price{before_taxes, taxes[]}`. Arithmetic is decimal, on
the JSON numbers' own digits, so 0.1 + 0.2 stays 0.3.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.translation.engine import ObjectRule, PairRules, Walk, rename, schema
from domain.translation.losses import OcpiVersion

V211, V221, V230 = OcpiVersion.V2_1_1, OcpiVersion.V2_2_1, OcpiVersion.V2_3_0

DISPLAY_TEXT = schema("language str(2)!, text str(512)!")

OBJECTS = {
    V211: {"DisplayText": DISPLAY_TEXT},
    V221: {
        "DisplayText": DISPLAY_TEXT,
        "Price": schema("excl_vat num!, incl_vat num?"),
    },
    V230: {
        "DisplayText": DISPLAY_TEXT,
        "Price": schema("before_taxes num!, taxes TaxAmount*"),
        "TaxAmount": schema("name str!, account_number str?, percentage num?, amount num!"),
    },
}

# The tax entry a 2.2.1 incl_vat becomes in 2.3.0 (decision: one VAT line, no percentage).
VAT = "VAT"


def number(value: Decimal) -> int | float:
    """A JSON number from a decimal: an int when whole, else the float of its digits."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def owner_finish(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    """A 2.1.1 object carries no owner ids: its owner is the party of the connection it came over
    (`context.owner`: the CPO of a location, tariff, session or CDR; the eMSP of a token)."""
    if walk.partial and walk.at_top:
        return
    owner = walk.context.owner
    if owner is not None:
        out.setdefault("country_code", owner.country_code)
        out.setdefault("party_id", owner.party_id)


def same_id(one: Any, other: Any) -> bool:
    """Ids are CiStrings in 2.2.1 and 2.3.0: compared without case."""
    return isinstance(one, str) and isinstance(other, str) and one.upper() == other.upper()


def incl_vat_to_taxes(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.2.1 incl_vat -> one 2.3.0 tax line of the difference (the total stays exact)."""
    if value is None or source.get("excl_vat") is None:
        walk.dropped(path, value)
        return
    out["taxes"] = [{"name": VAT, "amount": number(decimal(value) - decimal(source["excl_vat"]))}]


def taxes_to_incl_vat(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.3.0 taxes -> 2.2.1 incl_vat = before_taxes + every amount. Names, accounts and rates are
    not carried: anything but one plain VAT line is reported as approximated."""
    taxes = value or []
    if not taxes or source.get("before_taxes") is None:
        return
    total = decimal(source["before_taxes"]) + sum(
        (decimal(tax.get("amount", 0)) for tax in taxes), Decimal(0)
    )
    out["incl_vat"] = number(total)
    if not _single_plain_vat(taxes):
        walk.approximated(path, value, out["incl_vat"])


def _single_plain_vat(taxes: list[Any]) -> bool:
    """The one shape a 2.2.1 incl_vat restores exactly: a single {"name": "VAT", "amount": x}."""
    only = taxes[0] if len(taxes) == 1 else None
    return isinstance(only, dict) and set(only) == {"name", "amount"} and only["name"] == VAT


PRICE_221_TO_230 = ObjectRule(
    fields={"excl_vat": rename("before_taxes"), "incl_vat": incl_vat_to_taxes}
)
PRICE_230_TO_221 = ObjectRule(
    fields={"before_taxes": rename("excl_vat"), "taxes": taxes_to_incl_vat}
)


def number_to_price(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.1.1 amount (a number, excl. VAT) -> 2.2.1 Price: exact; incl_vat stays unsaid."""
    out[path.rsplit(".", 1)[-1]] = value if value is None else {"excl_vat": value}


def price_to_number(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.2.1 Price -> 2.1.1 amount excluding VAT; incl_vat (and any extension) is dropped."""
    if not isinstance(value, dict):
        out[path.rsplit(".", 1)[-1]] = value
        return
    for name, member in value.items():
        if name != "excl_vat":
            walk.dropped(f"{path}.{name}", member)
    if "excl_vat" in value:
        out[path.rsplit(".", 1)[-1]] = value["excl_vat"]


RULES = {
    (V221, V230): PairRules(objects={"Price": PRICE_221_TO_230}),
    (V230, V221): PairRules(objects={"Price": PRICE_230_TO_221}),
}
