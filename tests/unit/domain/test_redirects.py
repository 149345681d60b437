"""Which receiver redirects the node follows: only a trailing slash added or removed."""

from __future__ import annotations

import pytest

from domain.redirects import slash_only_redirect

URL = "https://cpo.example.com/ocpi/cpo/2.2.1/locations"


@pytest.mark.parametrize(
    ("url", "status", "location", "followed"),
    [
        (URL, 307, URL + "/", URL + "/"),
        (URL + "/", 308, URL, URL),
        (URL, 307, "/ocpi/cpo/2.2.1/locations/", URL + "/"),
        (URL + "?offset=10", 307, URL + "/?offset=10", URL + "/?offset=10"),
    ],
)
def test_a_redirect_that_only_adds_or_removes_a_trailing_slash_is_followed(
    url: str, status: int, location: str, followed: str
) -> None:
    assert slash_only_redirect(url, status, location) == followed


@pytest.mark.parametrize(
    ("status", "location"),
    [
        (302, URL + "/"),  # may turn the PUT into a GET
        (301, URL + "/"),
        (307, "https://evil.example.com/ocpi/cpo/2.2.1/locations/"),
        (307, "http://cpo.example.com/ocpi/cpo/2.2.1/locations/"),  # scheme downgrade
        (307, "https://cpo.example.com:8443/ocpi/cpo/2.2.1/locations/"),
        (307, "https://cpo.example.com/ocpi/cpo/2.2.1/credentials"),
        (307, URL + "/?token=x"),
        (307, URL),  # a loop
        (307, None),
        (307, URL + "//"),
    ],
)
def test_any_other_redirect_is_not_followed(status: int, location: str | None) -> None:
    assert slash_only_redirect(URL, status, location) is None
