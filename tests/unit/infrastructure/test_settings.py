import pytest

from infrastructure.database_url import parse_database_url
from infrastructure.settings import SettingsError, load_settings


def test_defaults_give_a_hub_on_an_sqlite_file() -> None:
    settings = load_settings(environ={})
    assert settings.mode == "hub"
    assert settings.database.kind == "sqlite"
    assert settings.database.sqlite_path == "ocpi-ledger.db"
    assert str(settings.party) == "NL*HUB"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.admin_token is None


def test_flags_override_the_environment() -> None:
    settings = load_settings(environ={"OCPI_LEDGER_MODE": "hub"}, overrides={"mode": "platform"})
    assert settings.mode == "platform"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OCPI_LEDGER_DATABASE_URL", "mysql://x/y", "unsupported database URL scheme"),
        ("OCPI_LEDGER_DATABASE_URL", "postgresql://host-only", "needs a host and a database"),
        ("OCPI_LEDGER_BASE_URL", "ftp://x", "must be an http"),
        ("OCPI_LEDGER_MODE", "proxy", "must be one of hub, platform"),
        ("OCPI_LEDGER_PARTY", "NLHUB", "expected CC\\*PID"),
        ("OCPI_LEDGER_PARTY", "NL*HUBS", "party_id must be 3"),
        ("OCPI_LEDGER_ADMIN_TOKEN", "short", "at least 16"),
        ("OCPI_LEDGER_FORWARD_TIMEOUT", "soon", "number of seconds"),
        ("OCPI_LEDGER_LEDGER_VIEWS", "elsewhere", "one of inline, process, external"),
        ("OCPI_LEDGER_OUTCOME_COMMIT", "later", "one of before-answer, behind"),
        ("OCPI_LEDGER_CHECKPOINT_INTERVAL", "0", "must be positive"),
        ("OCPI_LEDGER_CHECKPOINT_SINK", "ftp://x/cp", "a file path or an http"),
    ],
)
def test_malformed_settings_name_the_variable_and_the_problem(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as error:
        load_settings(environ={variable: value})
    assert str(error.value).startswith(variable)


def test_a_postgres_url_keeps_credentials_and_schema() -> None:
    url = parse_database_url("postgresql://me:s%40cret@db.example:6543/ledger?schema=node_a")
    assert (url.user, url.password, url.host, url.port) == ("me", "s@cret", "db.example", 6543)
    assert url.schema == "node_a"
    assert "s@cret" not in url.redacted()


def test_the_message_log_lives_beside_the_sqlite_file() -> None:
    url = parse_database_url("sqlite:///var/lib/ocpi/node.db")
    assert url.sibling_sqlite_path("messages") == "var/lib/ocpi/node.messages.db"


def test_the_ledger_views_are_followed_inline_unless_told_otherwise() -> None:
    assert load_settings(environ={}).ledger_views == "inline"
    assert load_settings(environ={"OCPI_LEDGER_LEDGER_VIEWS": "Process"}).ledger_views == "process"


def test_outcomes_are_committed_before_the_answer_unless_told_otherwise() -> None:
    assert load_settings(environ={}).outcome_commit == "before-answer"
    chosen = load_settings(environ={"OCPI_LEDGER_OUTCOME_COMMIT": "Behind"})
    assert chosen.outcome_commit == "behind"


def test_checkpoints_default_to_every_minute_without_a_sink_and_a_key_in_the_store() -> None:
    settings = load_settings(environ={})
    assert (settings.checkpoint_interval, settings.checkpoint_sink) == (60.0, None)
    assert settings.signing_key is None
    assert (
        load_settings(
            environ={"OCPI_LEDGER_CHECKPOINT_SINK": "https://auditor.example/cp"}
        ).checkpoint_sink
        == "https://auditor.example/cp"
    )
