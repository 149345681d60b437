"""An operator at the console of a hub that routed real traffic: signs in, finds what one party
sent another, proves it with the evidence bundle, reads a party's traffic chart, suspends and
reactivates a connection and finds both in the routing table's history; and the browser never
talks to anyone but the node."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.evidence import verify_bundle
from application.traffic import TrafficQuery
from domain.values import Role
from simulator import SimConfig, SimParty, create_app, start_in_thread
from tests.conftest import fresh_database
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest, Peer

ADMIN_TOKEN = "hub-admin-token-0123456789"
TOKEN = {
    "country_code": "NL", "party_id": "EMS", "uid": "U1", "type": "RFID",
    "contract_id": "NL-EMS-C1", "issuer": "eMSP", "valid": True, "whitelist": "ALWAYS",
    "last_updated": "2024-01-01T00:00:00Z",
}  # fmt: skip


class Network:
    def __init__(self, hub: HubUnderTest, cpo: Peer, emsp: Peer, started: datetime) -> None:
        self.hub, self.cpo, self.emsp, self.started = hub, cpo, emsp, started

    @property
    def url(self) -> str:
        return self.hub.url


def route_traffic(hub: HubUnderTest, cpo: Peer, emsp: Peer) -> None:
    """Tokens from the eMSP to the CPO (every third one fails at the CPO), locations back."""
    failing = iter(range(100))
    cpo.platform.on(
        "PUT",
        "/",
        lambda _: Reply(500, b"<html>down</html>")
        if next(failing) % 3 == 2
        else Reply(200, envelope()),
    )
    for n in range(6):
        path = f"/NL/EMS/U{n}"
        body = {**TOKEN, "uid": f"U{n}", "contract_id": f"NL-EMS-C{n}"}
        emsp.call("PUT", "tokens", "receiver", path, to=cpo.party, body=body, request_id=f"t{n}")
    for n in range(4):
        location = {"country_code": "NL", "party_id": "CPO", "id": f"LOC{n}", "publish": True}
        cpo.call(
            "PUT", "locations", "receiver", f"/NL/CPO/LOC{n}", to=emsp.party, body=location,
            request_id=f"l{n}",
        )  # fmt: skip
    node = hub.node
    node.committer.flush()
    head = node.store.ledger.recorder.max_notification_id() or 0
    for name in ("audit", "traffic"):
        node.runners[name].wait(head, timeout=20)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    for database in fresh_database("sqlite", tmp_path_factory):
        with HubUnderTest(database, forward_timeout=2.0) as hub:
            started = datetime.now(UTC)
            cpo = hub.connect(Role.CPO, party_ids=["CPO"])
            emsp = hub.connect(Role.EMSP, party_ids=["EMS"])
            route_traffic(hub, cpo, emsp)
            yield Network(hub, cpo, emsp, started)


@pytest.fixture
def requests_seen(browser: Any, network: Network) -> Iterator[list[str]]:
    """Every URL the browser asked for; anything off the node's origin is also blocked."""
    seen: list[str] = []
    yield seen
    foreign = [url for url in seen if not url.startswith(network.url + "/")]
    assert not foreign, f"the console made the browser call other origins: {foreign}"
    assert seen, "no request recorded: the listener is not wired"


def open_context(browser: Any, network: Network, seen: list[str], **options: Any) -> Any:
    context = browser.new_context(accept_downloads=True, **options)

    def watch(route: Any) -> None:
        seen.append(route.request.url)
        if route.request.url.startswith(network.url + "/"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", watch)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(browser: Any, network: Network, requests_seen: list[str]) -> Iterator[Any]:
    context = open_context(browser, network, requests_seen)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_javascript(
    browser: Any, network: Network, requests_seen: list[str]
) -> Iterator[Any]:
    context = open_context(browser, network, requests_seen, java_script_enabled=False)
    yield context.new_page()
    context.close()


def sign_in(page: Any, network: Network, target: str = "/console") -> None:
    page.goto(network.url + target)
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shot(page: Any, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_nothing_is_shown_before_sign_in_and_a_wrong_token_is_refused(
    page: Any, network: Network
) -> None:
    page.goto(network.url + "/console/messages")
    assert "/console/sign-in" in page.url
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert "NL*CPO" not in page.content()
    page.get_by_label("Admin token").fill("not-the-admin-token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Unknown admin token."
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == network.url + "/console/messages"
    cookie = next(c for c in page.context.cookies() if c["name"] == "ocpi_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.goto(network.url + "/console")
    assert "/console/sign-in" in page.url


def test_the_overview_shows_connections_traffic_lag_and_the_ledger_check(
    page: Any, network: Network, screenshots: Path
) -> None:
    sign_in(page, network)
    connections = page.get_by_role("table", name="Connections by status")
    assert "CONNECTED" in connections.inner_text()
    requests = page.get_by_role("table", name="Requests and error rate").inner_text()
    assert re.search(r"since [-0-9]+ [0-9:]+ UTC\s+10\s+2\s+20\.0 %", requests), requests
    assert "Not verified" in page.locator("#ledger-status").inner_text()
    page.get_by_role("button", name="Verify the ledger now").click()
    assert page.locator("#ledger-status").inner_text().startswith("Verified")
    assert "No signed checkpoint" in page.locator("#checkpoint").inner_text()
    shot(page, screenshots, "overview")


def test_what_one_party_sent_another_is_found_opened_and_proven(
    page: Any, network: Network, screenshots: Path
) -> None:
    sign_in(page, network, "/console/messages")
    page.get_by_label("Party", exact=True).fill("NL*EMS")
    page.get_by_label("Counterpart").fill("nl*cpo")
    page.get_by_label("Direction").select_option("sent")
    page.get_by_label("Module").fill("tokens")
    since = network.started - timedelta(minutes=1)
    page.get_by_label("Since (UTC)").fill(since.strftime("%Y-%m-%dT%H:%M:%SZ"))
    until = since + timedelta(hours=1)
    page.get_by_label("Until (UTC)").fill(until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    page.get_by_label("Per page").select_option("25")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#result-count").inner_text().startswith("Showing 1\N{EN DASH}6 of 6 ")
    shot(page, screenshots, "messages")

    page.get_by_label("Outcome").select_option("error")
    page.get_by_role("button", name="Search").click()
    assert "of 2 messages" in page.locator("#result-count").inner_text()
    page.locator("#messages tbody a").first.click()

    assert page.get_by_role("heading", name="Timeline").is_visible()
    timeline = page.locator(".timeline").inner_text()
    for step in ("Received", "Routed", "Forwarded", "Answered", "Responded"):
        assert step in timeline
    assert '"uid": "U5"' in page.locator("#request-body").inner_text()
    assert "down" in page.locator(".side-by-side").inner_text()
    assert "hub-admin-token" not in page.content() and "authorization" not in timeline.lower()
    shot(page, screenshots, "message")

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download evidence bundle").click()
    bundle = json.loads(Path(downloaded.value.path()).read_text())
    report = verify_bundle(bundle)
    assert report["ok"], report["problems"]
    assert report["records"] == 2 and report["bodies_kept"] >= 1  # Admitted, Concluded

    page.get_by_role("link", name="Re-drive…").click()
    assert "would be sent again" in page.locator("#dry-run").inner_text()
    page.get_by_role("button", name="Yes, send it again").click()
    assert "Sent again as message" in page.locator("#redrive-result").inner_text()
    original = page.url.split("/")[-2]
    page.locator("#redrive-result a").click()  # the new message, which names the original
    assert "Retry of" in page.locator(".facts").inner_text()
    assert "Responded" in page.locator(".timeline").inner_text()  # read from the ledger itself
    assert "success HTTP 200" in page.locator(".facts").inner_text()
    page.get_by_role("link", name=f"message {original}").click()
    assert page.url.endswith(f"/console/messages/{original}")
    assert page.get_by_role("heading", name=re.compile("^Same correlation id")).is_visible()
    assert "(re-drive of this message)" in page.locator("#main ul").inner_text()


def received_by_cpo(network: Network) -> int:
    report = network.hub.node.services.traffic_view.report(TrafficQuery(party="NL*CPO"))
    counts = [t["count"] for t in report["totals"] if t["direction"] == "received"]
    assert sum(counts) >= 6
    return sum(counts)


def test_a_partys_traffic_chart_is_drawn_from_the_traffic_projection(
    page: Any, network: Network, screenshots: Path
) -> None:
    sign_in(page, network, "/console/traffic?party=NL*CPO")
    assert page.get_by_role("heading", name="Traffic of NL*CPO").is_visible()
    page.wait_for_selector("#chart-messages[data-drawn=true] canvas")
    assert page.locator("#chart-latency canvas").count() == 1
    # The tokens the CPO received: 6 routed (2 failed at the CPO), plus any re-drive since.
    received = received_by_cpo(network)
    rate = f"{100 * 2 / received:.1f} %"
    counterparts = page.get_by_role("table", name="Counterparts").inner_text()
    assert f"NL*EMS (received)\t{received}\t2\t{rate}" in counterparts, counterparts
    assert "NL*EMS (sent)\t4\t0\t0.0 %" in counterparts, counterparts
    page.get_by_label("Direction").select_option("received")
    page.get_by_role("button", name="Show").click()
    per_hour = page.get_by_role("table", name=re.compile("^Per hour")).inner_text()
    assert f"\t{received}\t2\t{rate}" in per_hour, per_hour
    shot(page, screenshots, "traffic")


def test_a_connection_suspended_and_reactivated_shows_in_the_time_slider_without_javascript(
    page_without_javascript: Any, network: Network, screenshots: Path
) -> None:
    page = page_without_javascript
    sign_in(page, network, "/console/network")
    cpo_link = f'a[href="/console/connections/{network.cpo.connection_id}"]'
    page.locator("#connections").locator(cpo_link).click()
    for action, verb, status in (("Suspend", "suspend", "SUSPENDED"),
                                 ("Reactivate", "reactivate", "CONNECTED")):  # fmt: skip
        page.get_by_role("link", name=f"{action}…").click()
        assert page.get_by_role("heading", name=re.compile(f"^{action} connection")).is_visible()
        page.get_by_label("Reason (kept in the ledger)").fill(f"browser test {verb}")
        page.get_by_role("button", name=f"Yes, {verb} it").click()
        assert page.locator("#connection-status").inner_text() == status
    shot(page, screenshots, "connection")
    history = page.locator("#events").inner_text()
    assert "browser test suspend" in history and "browser test reactivate" in history

    page.goto(network.url + "/console/network")
    slider = page.get_by_label("Routing table as of")
    last = int(slider.get_attribute("max"))
    row = page.locator("#connections tr", has=page.locator(cpo_link))
    assert "CONNECTED" in row.inner_text()
    page.get_by_text("Recent changes").click()
    suspended = re.compile("Connection.Suspended")
    page.locator("#changes").get_by_role("link", name=suspended).first.click()
    assert int(page.get_by_label("Routing table as of").get_attribute("value")) < last
    row = page.locator("#connections tr", has=page.locator(cpo_link))
    assert "SUSPENDED" in row.inner_text() and "browser test suspend" in row.inner_text()
    assert "Connection.Suspended" in page.locator("#as-of").inner_text()
    shot(page, screenshots, "network-history")


def test_a_form_posted_without_the_sessions_csrf_token_changes_nothing(
    page: Any, network: Network
) -> None:
    sign_in(page, network)
    connection = network.emsp.connection_id
    answer = page.request.post(
        f"{network.url}/console/connections/{connection}/suspend",
        form={"csrf": "forged", "reason": "csrf"},
        max_redirects=0,
    )
    assert answer.status == 403
    status = network.hub.node.routing_table.connection(str(connection)).status
    assert str(status) == "CONNECTED"


@pytest.fixture
def simulated_platform() -> Iterator[Any]:
    """A simulated OCPI platform (simulator/) that waits to be registered with its Token A."""
    app = create_app(SimConfig(parties=[SimParty("BE", "SIM", "CPO", "Sim CPO")],
                               token_a="token-a-for-the-console"))  # fmt: skip
    server = start_in_thread(app)
    yield server
    server.stop()


def test_a_platform_is_connected_its_credentials_rotated_and_it_is_disconnected(
    page: Any, network: Network, simulated_platform: Any, screenshots: Path
) -> None:
    sim = simulated_platform.app.state.sim
    sign_in(page, network, "/console/network")
    page.get_by_label("Label", exact=True).last.fill("Sim CPO")
    page.get_by_label("Peer's versions URL").fill(f"{simulated_platform.url}/ocpi/versions")
    page.get_by_label("Token A from the peer").fill("token-a-for-the-console")
    page.get_by_role("button", name="Connect (credentials handshake)").click()
    assert page.locator("#connection-status").inner_text() == "CONNECTED"
    assert "BE*SIM" in page.locator(".facts").inner_text()
    token_before = sim.peer().token_we_send

    page.get_by_role("link", name="Rotate credentials of…").click()
    page.get_by_role("button", name="Yes, rotate credentials of it").click()
    assert page.locator("#done").inner_text() == "Done: rotate."
    assert sim.peer().token_we_send != token_before  # the node gave the platform a new token
    shot(page, screenshots, "connection-rotated")

    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Yes, disconnect it").click()
    assert "(unregistered)" in page.locator(".facts").inner_text()
    assert sim.peers == {}  # the platform forgot the node too


def test_the_route_explain_tells_where_a_message_would_go_and_why(
    page: Any, network: Network
) -> None:
    sign_in(page, network, "/console/explain")
    page.get_by_label("To party").fill("NL*CPO")
    page.get_by_label("Module").fill("tokens")
    page.get_by_role("button", name="Explain").click()
    explanation = page.locator("#explanation").inner_text()
    assert explanation.startswith("Routed") and "direct" in explanation
    page.get_by_label("To party").fill("XX*NOP")
    page.get_by_role("button", name="Explain").click()
    assert page.locator("#explanation").inner_text().startswith("Not routed")
    page.get_by_label("To party").fill("")
    page.get_by_label("or broadcast from party").fill("NL*CPO")
    page.get_by_label("Module").fill("locations")
    page.get_by_role("button", name="Explain").click()
    assert "NL*EMS" in page.locator("#receivers").inner_text()


PAGES = ["/console", "/console/traffic", "/console/messages", "/console/network",
         "/console/explain"]  # fmt: skip


def test_every_field_has_a_label_and_the_keyboard_reaches_the_content_first(
    page: Any, network: Network
) -> None:
    page.goto(network.url + "/console/sign-in")
    for _ in range(5):
        if page.evaluate("() => document.activeElement.id") == "token":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_url(network.url + "/console")
    unlabelled = """() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)"""
    for path in PAGES:
        page.goto(network.url + path)
        assert page.evaluate(unlabelled) == [], path
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.textContent")
        assert focused == "Skip to content", path

