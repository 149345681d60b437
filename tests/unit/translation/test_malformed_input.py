"""Whatever a peer sends, a translation ends in a translated object or an UntranslatableError:
never another exception (the hub answers a clear OCPI error, never a 500)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import UntranslatableError
from domain.translation import ObjectKind, TranslationContext, translate
from domain.translation.bridge import SPECS, defines
from domain.values import PartyRef
from tests.unit.translation.strategies import objects

FIELD_NAMES = sorted({name for spec in SPECS.values() for fields in spec.objects.values()
                      for name in fields})  # fmt: skip
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)
    ),
    max_leaves=12,
)
CONTEXT = TranslationContext(
    owner=PartyRef("NL", "CPO"), token_owner=PartyRef("NL", "MSP"), time_zone="Europe/Amsterdam"
)
PAIRS = [("2.2.1", "2.1.1"), ("2.1.1", "2.2.1"), ("2.3.0", "2.2.1"), ("2.2.1", "2.3.0")]


@st.composite
def damaged(draw, version: str, kind: str):
    """A valid object with some of its values replaced by arbitrary JSON."""
    document = draw(objects(version, kind))
    for name in draw(st.lists(st.sampled_from(sorted(document)), max_size=3)):
        document[name] = draw(JSON)
    return document


@pytest.mark.parametrize("source, target", PAIRS)
@pytest.mark.parametrize("kind", list(ObjectKind), ids=str)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_object_is_translated_or_refused_never_an_exception(kind, source, target, data):
    if not (defines(source, kind) and defines(target, kind)):
        return
    document = data.draw(damaged(source, kind))
    try:
        result = translate(kind, document, source, target, CONTEXT)
    except UntranslatableError as refusal:
        assert refusal.reason and str(refusal)
    else:
        assert isinstance(result.body, dict)
