"""What a translation between OCPI versions changed: the loss report and the translated object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OcpiVersion(StrEnum):
    V2_1_1 = "2.1.1"
    V2_2_1 = "2.2.1"
    V2_3_0 = "2.3.0"


class LossKind(StrEnum):
    DROPPED = "dropped"  # the target version cannot carry the value; it is left out
    DEFAULTED = "defaulted"  # the target requires a value the source has not; the hub chose one
    APPROXIMATED = "approximated"  # carried, but as the nearest value the target can express


@dataclass(frozen=True, slots=True)
class Loss:
    """One field the translation did not carry exactly.

    `path` names the field in the object it was taken from (`evses[0].connectors[1].standard`);
    for a defaulted field, which the source lacks, it names where the source would have had it.
    """

    path: str
    kind: LossKind
    source_value: Any
    target_value: Any


@dataclass(frozen=True, slots=True)
class Translation:
    source: OcpiVersion
    target: OcpiVersion
    body: Any
    losses: tuple[Loss, ...]

    @property
    def lossless(self) -> bool:
        return not self.losses
