"""Console sessions: only a cookie this node signed, unexpired, under the current admin token
is a session; its CSRF token is bound to it."""

from __future__ import annotations

from api.console import session

KEY = session.session_key("shared-secret", "admin-token-hash")
NOW = 1_700_000_000.0


def test_a_cookie_the_node_issued_reads_back_as_the_same_session() -> None:
    cookie, issued = session.issue(KEY, now=NOW)
    assert session.read(KEY, cookie, now=NOW + 60) == issued


def test_an_expired_forged_or_malformed_cookie_is_no_session() -> None:
    cookie, _ = session.issue(KEY, now=NOW)
    expires, nonce, signature = cookie.split(".")
    assert session.read(KEY, cookie, now=NOW + session.LIFETIME_SECONDS) is None
    longer = f"{int(expires) + 86_400}.{nonce}.{signature}"
    assert session.read(KEY, longer, now=NOW) is None
    assert session.read(KEY, f"{expires}.{nonce}.{'0' * 64}", now=NOW) is None
    for junk in (None, "", "abc", "x.y.z", "1.2"):
        assert session.read(KEY, junk, now=NOW) is None


def test_changing_the_admin_token_ends_every_session() -> None:
    cookie, _ = session.issue(KEY, now=NOW)
    other = session.session_key("shared-secret", "another-admin-token-hash")
    assert session.read(other, cookie, now=NOW) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    _, first = session.issue(KEY, now=NOW)
    _, second = session.issue(KEY, now=NOW)
    assert session.csrf_matches(first, first.csrf)
    assert not session.csrf_matches(first, second.csrf)
    assert not session.csrf_matches(first, None)
    assert not session.csrf_matches(first, "")
