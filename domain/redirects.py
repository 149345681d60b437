"""Which redirects of a receiver the node follows (IMPL, issue "real-world peers").

Platform software often serves `/locations/` and answers `/locations` with 307 (or the
reverse). Following that once changes nothing about where the request goes. Any other redirect
could send the request, with the token the node presents, somewhere the peer never published:
it is not followed, and the requester is told where it pointed.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""Answers that send the request elsewhere; any other 3xx (304 Not Modified above all) is an
answer like any other and is relayed."""

FOLLOWED_STATUSES = frozenset({307, 308})
"""Only the redirects that keep method and body (RFC 9110 §15.4.8, §15.4.9)."""


def slash_only_redirect(url: str, status: int, location: str | None) -> str | None:
    """The URL to send the same request to once more, or None when this is not a redirect
    the node follows: 307/308 to the same scheme, host and port, the same query, and a path
    that differs only by a trailing slash."""
    if status not in FOLLOWED_STATUSES or not location:
        return None
    target = urljoin(url, location)
    before, after = urlsplit(url), urlsplit(target)
    same_place = (before.scheme, before.netloc.lower(), before.query) == (
        after.scheme,
        after.netloc.lower(),
        after.query,
    )
    one_slash = after.path in (before.path + "/", before.path.removesuffix("/"))
    if not same_place or after.fragment or not one_slash or before.path == after.path:
        return None
    return target


def redirect_refusal(status: int, location: str | None) -> str:
    where = location or "nowhere (no Location header)"
    return (
        f"the receiver answered HTTP {status} redirecting to {where}: not followed (only a"
        " 307/308 to the same origin that adds or removes a trailing slash is)"
    )
