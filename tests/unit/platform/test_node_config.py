import pytest

from domain.route_choice import ANY, RoutePolicy
from domain.values import PartyKey, PartyRef
from infrastructure.node_config import NodeConfigError, load_node_config, parse_node_config

TOKEN = "backend-token-0123456789"

GOOD = f"""
[[parties]]
country_code = "nl"
party_id = "cp1"
role = "cpo"
backend_url = "http://127.0.0.1:9001/ocpi/versions"
backend_token = "{TOKEN}"
[parties.business_details]
name = "Charging One"

[[parties]]
country_code = "NL"
party_id = "MS1"
role = "EMSP"
backend_url = "http://127.0.0.1:9001/ocpi/versions"
backend_token = "{TOKEN}"

[[parties]]
country_code = "NL"
party_id = "MS2"
role = "EMSP"
backend_url = "http://127.0.0.1:9002/ocpi/versions"
backend_token = "other-token-0123456789"

[[routes]]
counterpart = "DE*CP5"
module = "cdrs"
policy = "hub"

[[routes]]
policy = "DIRECT"
"""


def test_a_config_declares_parties_grouped_by_backend_and_route_rules():
    config = parse_node_config(GOOD)
    assert [p.key for p in config.parties] == [
        PartyKey("NL", "CP1", "CPO"),
        PartyKey("NL", "MS1", "EMSP"),
        PartyKey("NL", "MS2", "EMSP"),
    ]
    assert config.parties[0].business_details == {"name": "Charging One"}
    assert config.parties[1].business_details == {"name": "NL*MS1"}
    backends = config.backends()
    assert [(b.versions_url, b.token, len(b.parties)) for b in backends] == [
        ("http://127.0.0.1:9001/ocpi/versions", TOKEN, 2),
        ("http://127.0.0.1:9002/ocpi/versions", "other-token-0123456789", 1),
    ]
    assert [(r.counterpart, r.module, r.policy) for r in config.routes] == [
        (PartyRef("DE", "CP5"), "cdrs", RoutePolicy.HUB),
        (ANY, ANY, RoutePolicy.DIRECT),
    ]


def test_a_config_file_is_read_from_disk(tmp_path):
    path = tmp_path / "node.toml"
    path.write_text(GOOD)
    assert len(load_node_config(path).parties) == 3
    with pytest.raises(NodeConfigError, match="cannot read"):
        load_node_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('role = "cpo"', 'role = "HUB"', "not a role a platform hosts"),
        ('party_id = "cp1"', 'party_id = "toolong"', "party_id must be 3"),
        (
            f'backend_token = "{TOKEN}"\n[parties.business_details]',
            'backend_token = "short"\n[parties.business_details]',
            "at least 16",
        ),
        ('"http://127.0.0.1:9002/ocpi/versions"', '"ftp://x"', "http\\(s\\) URL"),
        ('policy = "hub"', 'policy = "sometimes"', "policy must be one of"),
        ('counterpart = "DE*CP5"', 'counterpart = "DECP5"', "expected CC\\*PID"),
        ('party_id = "MS2"', 'party_id = "MS1"', "declared twice"),
        ('"other-token-0123456789"', f'"{TOKEN}"', "share a backend_token"),
        ("[[routes]]\npolicy", "[[routes]]\ncolour = 1\npolicy", "unknown keys"),
        ('role = "cpo"', 'role = "cpo"\nrole = "emsp"', "not valid TOML"),
    ],
)
def test_a_bad_config_is_refused_with_the_place_and_the_problem(replace, by, message):
    assert replace in GOOD
    with pytest.raises(NodeConfigError, match=message):
        parse_node_config(GOOD.replace(replace, by, 1), source="node.toml")


def test_parties_of_one_backend_must_share_its_token():
    text = GOOD.replace(f'backend_token = "{TOKEN}"', 'backend_token = "third-token-0123456789"', 1)
    with pytest.raises(NodeConfigError, match="different backend_tokens"):
        parse_node_config(text)
