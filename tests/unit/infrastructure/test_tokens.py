import base64

from api.auth import token_candidates
from application.tokens import hash_token, new_token, token_matches


def test_a_base64_token_header_yields_the_decoded_token_first_then_the_raw_value() -> None:
    encoded = base64.b64encode(b"example-token").decode()
    assert token_candidates(f"Token {encoded}") == ["example-token", encoded]


def test_a_raw_token_header_is_accepted_as_is() -> None:
    assert "not-base64!" in token_candidates("Token not-base64!")


def test_the_spec_example_decodes_with_its_trailing_newline() -> None:
    # digest §1.2: the spec example encodes "example-token\n", which is not "example-token".
    assert token_candidates("Token ZXhhbXBsZS10b2tlbgo=")[0] == "example-token\n"


def test_other_schemes_and_empty_headers_carry_no_token() -> None:
    assert token_candidates("Bearer abc") == []
    assert token_candidates("Token ") == []
    assert token_candidates(None) == []


def test_new_tokens_are_printable_ascii_within_64_characters() -> None:
    token = new_token()
    assert 0 < len(token) <= 64
    assert all(0x21 <= ord(ch) <= 0x7E for ch in token)
    assert token_matches(token, hash_token(token))
    assert not token_matches(token + "x", hash_token(token))
