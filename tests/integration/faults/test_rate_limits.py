"""Per-party, per-module rate limits: HTTP 429 with Retry-After, an OCPI envelope, a Refused
event in the ledger and a "refused" row in the traffic view; other parties keep flowing."""

from __future__ import annotations

import pytest

from application.rate_limits import Limit, parse_limits
from application.traffic import TrafficQuery
from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.settings import SettingsError, load_settings
from tests.support.hub import HubUnderTest


def test_a_party_over_its_module_limit_gets_429_with_retry_after_and_it_is_recorded(
    database_url: DatabaseUrl,
) -> None:
    limits = parse_limits("locations=0.5/2,*=100/100")
    with HubUnderTest(database_url, forward_timeout=1.0, rate_limits=limits) as hub:
        emsp, other = hub.connect(Role.EMSP), hub.connect(Role.EMSP)
        cpo = hub.connect(Role.CPO)
        statuses = [
            emsp.call("GET", "locations", "sender", to=cpo.party, request_id=f"t-{n}").status_code
            for n in range(3)
        ]
        limited = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="t-over")

        assert statuses == [200, 200, 429]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        envelope = limited.json()
        assert envelope["status_code"] == 2000
        assert "rate limit" in envelope["status_message"]
        assert "locations allows 0.5 requests/s (burst 2)" in envelope["status_message"]
        assert len(cpo.platform.requests) == 2
        events = hub.events(emsp, "t-over")
        assert [type(e).__name__ for e in events] == ["Received", "Refused", "Responded"]
        assert events[1].http_status == 429 and "rate limit" in events[1].reason
        # Another module of the same party, and the same module of another party, still flow.
        assert emsp.call("GET", "tariffs", "sender", to=cpo.party).json()["status_code"] == 1000
        assert other.call("GET", "locations", "sender", to=cpo.party).json()["status_code"] == 1000

        traffic = hub.node.services.traffic_view
        hub.node.runners["traffic"].wait(hub.node.ledger.recorder.max_notification_id())
        rows = traffic.rows(TrafficQuery(party=str(emsp.party)))
        sent = [r for r in rows if r["module"] == "locations" and r["direction"] == "sent"]
        assert {r["outcome"] for r in sent} == {"success", "refused"}
        audit = hub.node.services.audit_view
        hub.node.runners["audit"].wait(hub.node.ledger.recorder.max_notification_id())
        assert audit.summary(str(events[0].originator_id))["outcome"] == "refused"


@pytest.mark.parametrize(
    "text",
    ["tokens", "tokens=fast/10", "tokens=5/x", "tokens=0/1", "tokens=5/0", "tokenz=5/10", "=5/1"],
)
def test_a_malformed_rate_limit_setting_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(SettingsError, match="OCPI_LEDGER_RATE_LIMITS"):
        load_settings({"OCPI_LEDGER_RATE_LIMITS": text})


def test_rate_limits_are_read_from_the_environment() -> None:
    settings = load_settings({"OCPI_LEDGER_RATE_LIMITS": "tokens=5/10,*=50/100"})
    assert settings.rate_limits == {"tokens": Limit(5.0, 10), "*": Limit(50.0, 100)}
    assert load_settings({}).rate_limits == {}
