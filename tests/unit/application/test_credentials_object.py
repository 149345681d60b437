import pytest

from application.credentials_object import InvalidCredentialsError, parse_credentials

ROLE = {"role": "cpo", "party_id": "abc", "country_code": "nl", "business_details": {"name": "A"}}


def test_a_valid_object_is_normalised() -> None:
    parsed = parse_credentials(
        {"token": "t0k", "url": "https://x/versions", "roles": [{**ROLE, "role": "CPO"}]}
    )
    assert parsed.roles[0]["party_id"] == "ABC" and parsed.roles[0]["country_code"] == "NL"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object"),
        ({"url": "https://x", "roles": [ROLE]}, "token"),
        ({"token": "has space", "url": "https://x", "roles": [ROLE]}, "token"),
        ({"token": "t", "url": "ftp://x", "roles": [ROLE]}, "url"),
        ({"token": "t", "url": "https://x", "roles": []}, "roles"),
        ({"token": "t", "url": "https://x", "roles": [ROLE]}, "roles[0].role"),
        ({"token": "t", "url": "https://x", "roles": [{**ROLE, "role": "CPO"}] * 2}, "twice"),
        (
            {
                "token": "t",
                "url": "https://x",
                "roles": [{**ROLE, "role": "CPO", "business_details": {}}],
            },
            "name",
        ),
    ],
)
def test_each_problem_is_named(data: object, message: str) -> None:
    with pytest.raises(InvalidCredentialsError, match=message.replace("[", r"\[")):
        parse_credentials(data)
