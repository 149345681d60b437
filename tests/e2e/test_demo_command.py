"""`ocpi-ledger demo` as a process: its temporary folder is gone when it ends (kept with
`--keep`), and a failure reads `ocpi-ledger demo: ...`.

The nodes are made to fail at start-up (a malformed setting they inherit), so each run takes
seconds: the backends start, the nodes exit, the demo stops everything and cleans up. The
mixed-version hub runs for real (a hub and four simulated platforms, about ten seconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_demo(
    tmp_path: Path, *flags: str, topology: str = "p2p", failing: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    if failing:
        env["OCPI_LEDGER_FORWARD_TIMEOUT"] = "soon"
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", topology, *flags],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_a_demo_that_fails_says_so_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    result = run_demo(tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("ocpi-ledger demo: ")
    assert "exited with 2 while starting" in result.stderr
    assert f"logs in {tmp_path}/ocpi-demo-" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_demo_run_with_keep_leaves_its_logs(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--keep")

    assert result.returncode == 1
    (kept,) = tmp_path.iterdir()
    assert kept.name.startswith("ocpi-demo-")
    logs = "".join(log.read_text() for log in kept.glob("process-*.log"))
    assert "ocpi-ledger serve: OCPI_LEDGER_FORWARD_TIMEOUT: must be a number of seconds" in logs


def test_the_mixed_version_hub_demo_exchanges_every_module_and_prints_each_translations_losses(
    tmp_path: Path,
) -> None:
    result = run_demo(tmp_path, topology="hub-mixed-versions", failing=False)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "31/31 messages, 0 failed" in out
    rows = [line.split() for line in out.splitlines()]
    # what went where: the 2.1.1 CPO's broadcast and the command to it, with the result back
    assert ["location", "push", "LOC1", "CPO1", "(2.1.1)", "eMSP2", "(2.2.1),", "eMSP3",
            "(2.3.0),", "eMSP5", "(2.1.1)", "ok"] in rows  # fmt: skip
    assert ["START_SESSION", "eMSP2", "(2.2.1)", "CPO1", "(2.1.1)", "ok,", "result",
            "ACCEPTED"] in rows  # fmt: skip
    assert ["charging", "profile", "S42", "eMSP2", "(2.2.1)", "CPO4", "(2.3.0)", "ok,",
            "result", "ACCEPTED"] in rows  # fmt: skip
    assert "payments: not exchanged: OCPI 2.3.0 payments go between a CPO and a PTP" in out
    # the losses of each lossy translation, read back from the hub's ledger
    assert ["locations", "request", "NL*CP1", "NL*EM2", "2.1.1->2.2.1", "1", "publish",
            "defaulted"] in rows  # fmt: skip
    assert ["commands", "answer", "NL*CP1", "NL*EM2", "2.1.1->2.2.1", "1", "timeout",
            "defaulted"] in rows  # fmt: skip
    assert any(r[:5] == ["sessions", "request", "NL*CP1", "NL*EM3", "2.1.1->2.3.0"] for r in rows)
    assert "lost nothing: " in out and "2.3.0->2.2.1 x" in out
    assert list(tmp_path.iterdir()) == []
