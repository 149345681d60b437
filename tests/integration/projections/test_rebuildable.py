"""The one list of read models an operator may rebuild (infrastructure/rebuildable.py)."""

from infrastructure.rebuildable import REBUILDABLE
from infrastructure.store import Store


def test_every_rebuildable_read_model_opens_under_its_projection_name(store: Store) -> None:
    for name, open_read_model in REBUILDABLE.items():
        _source, projection, view = open_read_model(store)

        assert projection.name == name
        assert view.name == name


def test_the_routing_table_follows_the_registry_and_the_ledger_views_the_ledger(
    store: Store,
) -> None:
    sources = {name: open_read_model(store)[0] for name, open_read_model in REBUILDABLE.items()}

    assert sources == {
        "routing_table": store.registry,
        "audit": store.ledger,
        "traffic": store.ledger,
        "hub_objects": store.ledger,
    }
