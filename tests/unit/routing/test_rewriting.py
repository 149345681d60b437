"""Digest §2.9-2.11: the hub rewrites response_url, Link and Location, and nothing else."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from domain.errors import RewriteError
from domain.rewriting import (
    replace_json_string_field,
    replace_query_param,
    rewrite_link_header,
    rewrite_location_header,
)

HUB_URL = "https://hub.example/ocpi/callbacks/7f3a"


def replace(body: bytes, new_value: str = HUB_URL) -> tuple[bytes, str | None]:
    return replace_json_string_field(body, "response_url", new_value)


def test_only_the_bytes_of_the_old_value_change() -> None:
    body = (
        b'{\n  "response_url" :  "https://msp.example/cb/1",\n'
        b'  "token": {"uid": "0123"},  "location_id":"LOC1"}\n'
    )

    new_body, old = replace(body)

    assert old == "https://msp.example/cb/1"
    assert new_body == body.replace(b'"https://msp.example/cb/1"', json.dumps(HUB_URL).encode())


def test_big_numbers_unknown_fields_whitespace_and_key_order_survive_byte_for_byte() -> None:
    body = (
        b'{"zeta":1.00000000000000000001,"x_vendor":{"a":[1e400,-0.0,12345678901234567890]},'
        b'\t"response_url":"https://msp.example/cb/1"  ,"alpha" : null}'
    )

    new_body, _ = replace(body, "https://hub.example/x")

    assert new_body == (
        b'{"zeta":1.00000000000000000001,"x_vendor":{"a":[1e400,-0.0,12345678901234567890]},'
        b'\t"response_url":"https://hub.example/x"  ,"alpha" : null}'
    )


def test_a_response_url_nested_deeper_is_not_touched() -> None:
    body = (
        b'{"charging_profile": {"response_url": "https://deep.example/1", "x": ["response_url"]},'
        b' "response_url": "https://msp.example/cb/1"}'
    )

    new_body, old = replace(body)

    assert old == "https://msp.example/cb/1"
    assert b'"response_url": "https://deep.example/1"' in new_body
    assert json.loads(new_body)["response_url"] == HUB_URL


def test_a_body_with_only_a_nested_response_url_is_returned_unchanged() -> None:
    body = b'{"charging_profile": {"response_url": "https://deep.example/1"}}'

    assert replace(body) == (body, None)


def test_a_body_without_the_field_is_returned_unchanged_and_identical() -> None:
    body = b'{"session_id": "S1"}'

    new_body, old = replace(body)

    assert new_body is body
    assert old is None


def test_an_empty_object_has_no_field() -> None:
    assert replace(b" { } ") == (b" { } ", None)


def test_json_escapes_in_the_old_value_are_decoded() -> None:
    body = rb'{"response_url": "https:\/\/msp.example\/cb?q=\"\u00e9\ud83d\ude00\"\\"}'

    new_body, old = replace(body)

    assert old == 'https://msp.example/cb?q="\u00e9\U0001f600"\\'
    assert new_body == b'{"response_url": "' + HUB_URL.encode() + b'"}'


def test_unicode_escapes_and_raw_utf8_elsewhere_are_kept_as_written() -> None:
    body = '{"name": "\\u00e9t\u00e9 \U0001f600", "response_url": "https://x/1", "n": "\u00e9"}'

    new_body, _ = replace(body.encode("utf-8"))

    assert new_body.decode("utf-8") == body.replace("https://x/1", HUB_URL)


def test_a_key_written_with_escapes_is_the_same_key() -> None:
    body = rb'{"response\u005furl": "https://x/1"}'

    new_body, old = replace(body)

    assert old == "https://x/1"
    assert json.loads(new_body) == {"response_url": HUB_URL}


def test_strings_with_braces_and_escaped_quotes_do_not_confuse_the_scanner() -> None:
    body = rb'{"a": "}{\"]", "b": [{"c": "\\"}], "response_url": "https://x/1"}'

    new_body, old = replace(body)

    assert old == "https://x/1"
    assert new_body == body.replace(b"https://x/1", HUB_URL.encode())


def test_a_new_value_with_special_characters_is_json_escaped() -> None:
    new_body, _ = replace(b'{"response_url": "x"}', 'https://hub/"\u00e9"')

    assert new_body == b'{"response_url": "https://hub/\\"\\u00e9\\""}'
    assert json.loads(new_body)["response_url"] == 'https://hub/"\u00e9"'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"response_url": "a", "response_url": "b"}', "response_url is given 2 times"),
        (b'{"response_url": null}', "response_url is not a string"),
        (b'{"response_url": {"url": "a"}}', "response_url is not a string"),
        (b'["response_url", "a"]', "body is not a JSON object"),
        (b'{"response_url": "a"', "body is not UTF-8 JSON"),
        (b"", "body is not UTF-8 JSON"),
        (b'{"response_url": "\xff"}', "body is not UTF-8 JSON"),
        (b'\xef\xbb\xbf{"response_url": "a"}', "body is not UTF-8 JSON"),
    ],
)
def test_a_body_that_cannot_be_rewritten_safely_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(RewriteError, match=message):
        replace(body)


def _random_string(rng: random.Random) -> str:
    alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '{', '}', '[', ']', ',', ':', '\u00e9',
                '\U0001f600', '\n', '\u2028', 'response_url']  # fmt: skip
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))


def _random_scalar(rng: random.Random) -> str:
    choices = [
        lambda: json.dumps(_random_string(rng), ensure_ascii=rng.random() < 0.5),
        lambda: str(rng.randint(-(10**25), 10**25)),
        lambda: f"{rng.randint(0, 9)}.{rng.randint(0, 10**20):020d}",
        lambda: f"{rng.randint(1, 9)}e{rng.randint(-400, 400)}",
        lambda: rng.choice(["true", "false", "null", "-0.0"]),
    ]
    return rng.choice(choices)()


def _ws(rng: random.Random) -> str:
    return "".join(rng.choice(" \t\n\r") for _ in range(rng.randint(0, 2)))


def _random_value(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth <= 0 or roll < 0.5:
        return _random_scalar(rng)
    if roll < 0.75:
        items = [
            _ws(rng) + _random_value(rng, depth - 1) + _ws(rng) for _ in range(rng.randint(0, 3))
        ]
        return "[" + ",".join(items) + "]"
    return _random_object(rng, depth - 1, with_field=rng.random() < 0.5)


def _random_object(rng: random.Random, depth: int, *, with_field: bool) -> str:
    keys = [f"k{i}_{_random_string(rng)}" for i in range(rng.randint(0, 4))]
    members = [(json.dumps(key), _random_value(rng, depth)) for key in keys]
    if with_field:
        members.insert(rng.randint(0, len(members)), ('"response_url"', _random_scalar_string(rng)))
    rendered = [f"{_ws(rng)}{key}{_ws(rng)}:{_ws(rng)}{value}{_ws(rng)}" for key, value in members]
    return "{" + ",".join(rendered) + _ws(rng) + "}"


def _random_scalar_string(rng: random.Random) -> str:
    return json.dumps(_random_string(rng), ensure_ascii=rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(300))
def test_rewriting_random_documents_changes_exactly_the_top_level_value(seed: int) -> None:
    rng = random.Random(seed)
    with_field = seed % 4 != 0
    text = _ws(rng) + _random_object(rng, 3, with_field=with_field) + _ws(rng)
    body = text.encode("utf-8")
    exact = {"parse_float": Decimal, "parse_int": Decimal, "parse_constant": str}
    original = json.loads(body, **exact)

    new_body, old = replace(body)

    if not with_field:
        assert (new_body, old) == (body, None)
        return
    assert old == original["response_url"]
    rewritten = json.loads(new_body, **exact)
    assert rewritten == {**original, "response_url": HUB_URL}
    assert list(rewritten) == list(original)
    start = new_body.index(json.dumps(HUB_URL).encode())
    end = start + len(json.dumps(HUB_URL))
    assert new_body[:start] == body[:start]
    assert new_body[end:] == body[len(body) - (len(new_body) - end) :]


def test_a_query_parameter_is_replaced_and_percent_encoded() -> None:
    query = "duration=900&response_url=https%3A%2F%2Fscsp.example%2Fcb%2F1&x=a+b"

    new_query, old = replace_query_param(query, "response_url", "https://hub.example/cb?id=1&z")

    assert old == "https://scsp.example/cb/1"
    assert (
        new_query == "duration=900&response_url=https%3A%2F%2Fhub.example%2Fcb%3Fid%3D1%26z&x=a+b"
    )


def test_other_query_parameters_keep_their_exact_encoding() -> None:
    query = "a=%7e%20+&response_url=u&b=%41"

    new_query, _ = replace_query_param(query, "response_url", "v")

    assert new_query == "a=%7e%20+&response_url=v&b=%41"


def test_a_query_parameter_value_is_decoded_like_form_data() -> None:
    assert replace_query_param("response_url=a+b%2Bc", "response_url", "v")[1] == "a b+c"


def test_an_absent_query_parameter_leaves_the_query_unchanged() -> None:
    assert replace_query_param("duration=900", "response_url", "v") == ("duration=900", None)
    assert replace_query_param("", "response_url", "v") == ("", None)


def test_a_leading_question_mark_is_kept() -> None:
    assert replace_query_param("?response_url=u", "response_url", "v") == ("?response_url=v", "u")


def test_a_query_parameter_without_a_value_is_replaced() -> None:
    assert replace_query_param("response_url", "response_url", "v") == ("response_url=v", "")


def test_a_duplicated_query_parameter_is_refused() -> None:
    with pytest.raises(RewriteError, match="response_url is given 2 times"):
        replace_query_param("response_url=a&response_url=b", "response_url", "v")


def test_a_percent_encoded_parameter_name_is_the_same_parameter() -> None:
    new_query, old = replace_query_param("response%5Furl=u", "response_url", "v")

    assert (new_query, old) == ("response%5Furl=v", "u")


def to_hub(url: str) -> str:
    return "https://hub.example/page?u=" + str(len(url))


def test_the_next_link_url_is_replaced_and_the_rest_is_kept() -> None:
    value = '<https://www.server.com/ocpi/cpo/2.2.1/cdrs/?offset=150&limit=50>; rel="next"'

    rewritten = rewrite_link_header(value, lambda url: f"https://hub.example/p?{url.split('?')[1]}")

    assert rewritten == '<https://hub.example/p?offset=150&limit=50>; rel="next"'


def test_only_next_links_are_rewritten_among_several() -> None:
    value = '<https://a/prev>; rel="prev", <https://a/next?x=1,2>; rel=next; title="n"'

    rewritten = rewrite_link_header(value, lambda url: "https://hub/1")

    assert rewritten == '<https://a/prev>; rel="prev", <https://hub/1>; rel=next; title="n"'


@pytest.mark.parametrize(
    "value",
    ['<https://a/n>; REL="Next"', '<https://a/n>;rel="prev next"', "<https://a/n> ; rel = next"],
)
def test_next_relations_are_recognised_in_every_spelling(value: str) -> None:
    assert "https://a/n" not in rewrite_link_header(value, to_hub)


def test_a_link_header_without_next_is_unchanged() -> None:
    value = '<https://a/prev>; rel="prev"'

    assert rewrite_link_header(value, to_hub) == value


def test_the_make_url_callback_receives_the_upstream_url() -> None:
    seen: list[str] = []

    rewrite_link_header('<https://a/n?offset=5>; rel="next"', lambda url: seen.append(url) or "x")

    assert seen == ["https://a/n?offset=5"]


def test_the_location_header_is_replaced_by_the_mapped_url() -> None:
    seen: list[str] = []

    def mapped(url: str) -> str:
        seen.append(url)
        return "https://hub.example/ocpi/cdrs/ab12"

    assert (
        rewrite_location_header(" https://msp/cdrs/1 ", mapped)
        == "https://hub.example/ocpi/cdrs/ab12"
    )
    assert seen == ["https://msp/cdrs/1"]


def test_an_empty_location_header_is_refused() -> None:
    with pytest.raises(RewriteError, match="Location header is empty"):
        rewrite_location_header("  ", to_hub)
