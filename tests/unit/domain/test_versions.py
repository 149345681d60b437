"""Version negotiation and what a 2.1.1 peer's role decides (domain/versions.py)."""

from __future__ import annotations

import pytest

from domain.values import InterfaceRole, ModuleId, Role
from domain.versions import (
    UnsupportedVersionError,
    VersionProposalError,
    check_proposal,
    choose_version,
    hub_interfaces_211,
)


@pytest.mark.parametrize(
    ("offered", "proposed", "chosen"),
    [
        (["2.1.1", "2.2.1", "2.3.0"], None, "2.2.1"),
        (["2.1.1", "2.3.0"], None, "2.3.0"),
        (["2.3.0"], None, "2.3.0"),
        (["2.0", "2.1.1"], None, "2.1.1"),
        (["2.1.1", "2.2.1", "2.3.0"], "2.3.0", "2.3.0"),
        (["2.1.1", "2.2.1", "2.3.0"], "2.1.1", "2.1.1"),
        (["3.0", "2.2.1"], "2.2.1", "2.2.1"),
    ],
)
def test_the_version_is_the_proposed_one_else_221_else_the_highest_both_speak(
    offered: list[str], proposed: str | None, chosen: str
) -> None:
    assert choose_version(offered, proposed) == chosen


@pytest.mark.parametrize(
    ("offered", "proposed", "message"),
    [
        (["2.0", "3.0"], None, "no mutual version: the peer offers 2.0, 3.0"),
        ([], None, "the peer offers none"),
        (["2.2.1"], "2.1.1", "the connection proposes OCPI 2.1.1; the peer offers 2.2.1"),
    ],
)
def test_no_usable_version_is_refused_with_what_each_side_speaks(
    offered: list[str], proposed: str | None, message: str
) -> None:
    with pytest.raises(UnsupportedVersionError, match=message):
        choose_version(offered, proposed)


@pytest.mark.parametrize(
    ("version", "role", "expected"),
    [
        (None, None, (None, None)),
        ("2.1.1", "CPO", ("2.1.1", Role.CPO)),
        ("2.1.1", "EMSP", ("2.1.1", Role.EMSP)),
        ("2.2.1", None, ("2.2.1", None)),
        ("2.3.0", None, ("2.3.0", None)),
    ],
)
def test_a_proposal_states_a_role_only_for_211(
    version: str | None, role: str | None, expected: tuple[str | None, Role | None]
) -> None:
    assert check_proposal(version, role) == expected


@pytest.mark.parametrize(
    ("version", "role", "message"),
    [
        ("2.1.1", None, "needs its role"),
        ("2.1.1", "HUB", "is CPO or EMSP"),
        ("2.3.0", "CPO", "only stated for OCPI 2.1.1 peers"),
        (None, "CPO", "only stated for an OCPI 2.1.1 peer"),
        ("2.2", None, "not one this node speaks"),
    ],
)
def test_a_proposal_that_does_not_go_together_is_refused(
    version: str | None, role: str | None, message: str
) -> None:
    with pytest.raises(VersionProposalError, match=message):
        check_proposal(version, role)


def test_a_211_cpo_is_offered_the_emsp_side_without_commands() -> None:
    assert hub_interfaces_211(Role.CPO) == [
        (ModuleId.CREDENTIALS, InterfaceRole.SENDER),
        (ModuleId.CDRS, InterfaceRole.RECEIVER),
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.SESSIONS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
        (ModuleId.TOKENS, InterfaceRole.SENDER),
    ]


def test_a_211_emsp_is_offered_the_cpo_side() -> None:
    assert hub_interfaces_211(Role.EMSP) == [
        (ModuleId.CREDENTIALS, InterfaceRole.SENDER),
        (ModuleId.CDRS, InterfaceRole.SENDER),
        (ModuleId.COMMANDS, InterfaceRole.RECEIVER),
        (ModuleId.LOCATIONS, InterfaceRole.SENDER),
        (ModuleId.SESSIONS, InterfaceRole.SENDER),
        (ModuleId.TARIFFS, InterfaceRole.SENDER),
        (ModuleId.TOKENS, InterfaceRole.RECEIVER),
    ]
