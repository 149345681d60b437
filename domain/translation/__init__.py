"""Translation of OCPI objects between 2.1.1, 2.2.1 and 2.3.0, with a report of what was lost.

Pure functions over JSON-shaped dicts; see docs/ocpi-versions-digest.md for every rule and
decision they implement.
"""

from domain.translation.bridge import ObjectKind, TranslationContext, defines, translate
from domain.translation.losses import Loss, LossKind, OcpiVersion, Translation

__all__ = [
    "Loss",
    "LossKind",
    "ObjectKind",
    "OcpiVersion",
    "Translation",
    "TranslationContext",
    "defines",
    "translate",
]
