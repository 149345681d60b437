from simulator import Simulator
from simulator.auth import authorization_header, encode_token, token_candidates
from simulator.config import SimConfig, SimParty


def _sim_accepting(token: str) -> Simulator:
    return Simulator(SimConfig(parties=[SimParty("NL", "CPO", "CPO")], token_a=token))


def test_a_base64_header_decodes_to_the_token():
    assert token_candidates("Token ZXhhbXBsZS10b2tlbg==")[0] == "example-token"


def test_a_raw_token_header_is_also_a_candidate():
    assert "example-token" in token_candidates("Token example-token")


def test_the_spec_example_decodes_to_a_token_with_a_trailing_newline():
    assert token_candidates("Token ZXhhbXBsZS10b2tlbgo=")[0] == "example-token\n"


def test_the_spec_example_is_not_accepted_for_example_token():
    sim = _sim_accepting("example-token")
    assert sim.authenticate(token_candidates("Token ZXhhbXBsZS10b2tlbgo=")) is None


def test_both_encodings_of_the_right_token_are_accepted():
    sim = _sim_accepting("example-token")
    assert sim.authenticate(token_candidates("Token ZXhhbXBsZS10b2tlbg==")) is not None
    assert sim.authenticate(token_candidates("Token example-token")) is not None


def test_headers_without_the_token_scheme_yield_nothing():
    assert token_candidates(None) == []
    assert token_candidates("Bearer ZXhhbXBsZS10b2tlbg==") == []
    assert token_candidates("Token") == []
    assert token_candidates("Token  two  spaces") == []


def test_outbound_headers_are_base64_with_padding():
    assert authorization_header("example-token") == "Token ZXhhbXBsZS10b2tlbg=="
    assert encode_token("ab") == "YWI="


def test_a_211_platform_sends_its_token_as_it_is_and_22_ones_in_base64() -> None:
    assert authorization_header("abc", "2.1.1") == "Token abc"
    assert authorization_header("abc", "2.3.0") == "Token YWJj"
