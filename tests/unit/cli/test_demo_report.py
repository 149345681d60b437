"""What `ocpi-ledger demo` prints after its traffic (aligned tables and a legend of the route
kinds, not Python dicts), and the temporary folder it leaves behind only when asked to."""

from __future__ import annotations

from collections import Counter

from api.demo.orchestrator import Demo
from api.demo.report import exchanges_table, ledgers_table, legend, report
from api.demo.topologies import TOPOLOGIES, PartySpec
from api.demo.traffic import EXCHANGES, Exchange

EMSP1, EMSP2 = PartySpec("eMSP1", "EMSP"), PartySpec("eMSP2", "EMSP")
CPO1 = PartySpec("CPO1", "CPO")


def exchange(emsp: PartySpec, name: str, route: str, error: str = "") -> Exchange:
    status = (502, 3000) if error else (200, 1000)
    return Exchange(emsp, CPO1, name, "c", *status, route=route, error=error)


def test_exchanges_are_counted_per_pair_and_route_in_aligned_columns() -> None:
    exchanges = [exchange(EMSP1, name, "direct") for name in EXCHANGES]
    exchanges += [exchange(EMSP2, name, "hub") for name in EXCHANGES[:4]]
    exchanges.append(exchange(EMSP2, "CDR", "hub", error="HTTP 502\n  upstream went away"))

    assert exchanges_table(exchanges).splitlines() == [
        "EMSP   CPO   DIRECT  HUB  RESULT",
        "eMSP1  CPO1  5       -    ok",
        "eMSP2  CPO1  -       5    1 FAILED",
        "  FAILED eMSP2 <-> CPO1 CDR: HTTP 502 upstream went away",
    ]


def test_an_exchange_that_never_got_a_route_is_counted_as_none() -> None:
    table = exchanges_table([exchange(EMSP1, "token push", "", error="ConnectError")])

    assert table.splitlines()[:2] == ["EMSP   CPO   NONE  RESULT", "eMSP1  CPO1  1     1 FAILED"]


def test_ledgers_are_counted_per_node_with_the_kinds_in_the_legend_order() -> None:
    routes = {
        "hub": Counter({"direct": 120}),
        "eMSP1+eMSP2": Counter({"hub": 18, "refused": 1, "local": 30, "direct": 12}),
    }

    assert ledgers_table(routes).splitlines() == [
        "NODE         MESSAGES  LOCAL  DIRECT  HUB  REFUSED",
        "hub          120       -      120     -    -",
        "eMSP1+eMSP2  61        30     12      18   1",
    ]


def test_the_legend_explains_only_the_kinds_shown_in_their_order() -> None:
    lines = legend(["hub", "direct", "hub", "x-new"]).splitlines()

    assert [line.split()[0] for line in lines] == ["direct", "hub", "x-new"]
    assert lines[0].startswith("  direct  over the node's own connection")
    assert lines[2] == "  x-new   as the node recorded it"


def test_the_report_has_tables_and_a_legend_and_no_python_dicts() -> None:
    exchanges = [exchange(EMSP1, name, "direct") for name in EXCHANGES]

    text = report("3.2 Peer-to-peer", exchanges, {"eMSP1": Counter({"local": 5, "direct": 5})})

    assert "{" not in text
    assert text.splitlines()[0] == "3.2 Peer-to-peer"
    routes = text.split("\nroutes:\n")[1].splitlines()
    assert [line.split()[0] for line in routes] == ["local", "direct"]


def test_closing_the_demo_removes_its_temporary_folder() -> None:
    demo = Demo(TOPOLOGIES["p2p"])
    (demo.workdir / "process-0.log").write_text("log")

    demo.close()

    assert not demo.workdir.exists()


def test_closing_the_demo_keeps_its_temporary_folder_when_asked_to(tmp_path) -> None:
    demo = Demo(TOPOLOGIES["p2p"], workdir=tmp_path / "kept", keep_workdir=True)
    demo.workdir.mkdir()

    demo.close()

    assert demo.workdir.is_dir()
