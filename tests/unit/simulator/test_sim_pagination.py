from urllib.parse import parse_qs, urlsplit

import pytest

from simulator.client import next_link
from simulator.envelope import OcpiError
from simulator.pagination import PageRequest, paginate, pagination_headers

URL = "http://sim/ocpi/cpo/2.2.1/locations"


def _objects(n: int) -> list[dict[str, str]]:
    return [{"id": str(i), "last_updated": f"2024-01-01T10:00:{i:02d}Z"} for i in range(n)]


def test_a_first_page_has_limit_items_and_links_to_the_next_offset():
    page = paginate(_objects(5), PageRequest(offset=0, limit=2), max_limit=50)
    headers = pagination_headers(URL, {"limit": "2"}, page)
    assert [o["id"] for o in page.items] == ["0", "1"]
    assert headers["X-Total-Count"] == "5"
    assert headers["X-Limit"] == "50"
    link = next_link(headers["Link"])
    assert link is not None and headers["Link"].endswith('; rel="next"')
    assert parse_qs(urlsplit(link).query) == {"offset": ["2"], "limit": ["2"]}


def test_the_last_page_has_no_link():
    page = paginate(_objects(5), PageRequest(offset=4, limit=2), max_limit=50)
    assert [o["id"] for o in page.items] == ["4"]
    assert "Link" not in pagination_headers(URL, {}, page)


def test_an_exactly_full_last_page_has_no_link():
    page = paginate(_objects(4), PageRequest(offset=2, limit=2), max_limit=50)
    assert "Link" not in pagination_headers(URL, {}, page)


def test_the_limit_is_capped_by_the_server_maximum():
    page = paginate(_objects(10), PageRequest(limit=500), max_limit=3)
    headers = pagination_headers(URL, {"limit": "500"}, page)
    assert len(page.items) == 3
    assert headers["X-Limit"] == "3"
    assert parse_qs(urlsplit(next_link(headers["Link"]) or "").query)["limit"] == ["3"]


def test_date_from_is_inclusive_and_date_to_exclusive():
    request = PageRequest.from_query(
        {"date_from": "2024-01-01T10:00:01Z", "date_to": "2024-01-01T10:00:03"}
    )
    page = paginate(_objects(5), request, max_limit=50)
    assert [o["id"] for o in page.items] == ["1", "2"]
    assert page.total == 2


def test_the_next_link_keeps_the_date_filters():
    query = {"date_from": "2024-01-01T10:00:00Z", "limit": "1"}
    page = paginate(_objects(3), PageRequest.from_query(query), max_limit=50)
    link = next_link(pagination_headers(URL, query, page)["Link"]) or ""
    assert parse_qs(urlsplit(link).query)["date_from"] == ["2024-01-01T10:00:00Z"]
    assert link.startswith(URL + "?")


def test_objects_come_oldest_first():
    objects = list(reversed(_objects(3)))
    page = paginate(objects, PageRequest(), max_limit=50)
    assert [o["id"] for o in page.items] == ["0", "1", "2"]


def test_a_zero_limit_never_links_onward():
    page = paginate(_objects(3), PageRequest(limit=0), max_limit=50)
    assert page.items == [] and not page.has_next


def test_garbage_pagination_parameters_are_2001():
    with pytest.raises(OcpiError) as caught:
        PageRequest.from_query({"offset": "minus one"})
    assert caught.value.status_code == 2001


def test_link_headers_are_parsed_with_or_without_spaces():
    assert next_link('<http://a/b?offset=2>; rel="next"') == "http://a/b?offset=2"
    assert next_link('<http://a/b?offset=2>;rel="next"') == "http://a/b?offset=2"
    assert next_link(None) is None
