"""Expired callback links are swept from the store; CDR locations, which never expire, stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.callbacks import HubLink
from domain.values import PartyRef
from infrastructure.callback_store import SqlLinkStore
from infrastructure.store import Store

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def link(link_id: str, expires_at: datetime | None) -> HubLink:
    return HubLink(
        id=link_id,
        kind="CALLBACK" if expires_at else "CDR_LOCATION",
        module="commands",
        original_url=f"https://emsp.example/callbacks/{link_id}",
        requester_connection_id="conn-emsp",
        requester_party=PartyRef.parse("NL*EMS"),
        receiver_party=PartyRef.parse("DE*CPO"),
        correlation_id=f"corr-{link_id}",
        created_at=NOW - timedelta(days=3),
        expires_at=expires_at,
    )


def test_the_sweep_forgets_links_expired_before_the_cut_off_and_keeps_the_rest(
    store: Store,
) -> None:
    links = SqlLinkStore(store.ledger_db)
    links.put(link("long-gone", NOW - timedelta(days=2)))
    links.put(link("just-expired", NOW - timedelta(hours=1)))
    links.put(link("still-valid", NOW + timedelta(minutes=10)))
    links.put(link("cdr-location", None))

    assert links.delete_expired(NOW - timedelta(days=1)) == 1

    assert links.get("long-gone") is None
    for kept in ("just-expired", "still-valid", "cdr-location"):
        assert links.get(kept) is not None
