from application.tokens import hash_token, new_token, token_matches


def test_new_tokens_are_printable_ascii_within_64_characters() -> None:
    token = new_token()
    assert 0 < len(token) <= 64
    assert all(0x21 <= ord(ch) <= 0x7E for ch in token)
    assert token_matches(token, hash_token(token))
    assert not token_matches(token + "x", hash_token(token))


def test_new_tokens_never_start_with_a_dash_so_they_paste_into_command_lines() -> None:
    assert not any(new_token().startswith("-") for _ in range(2000))
