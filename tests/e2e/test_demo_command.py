"""`ocpi-ledger demo` as a process: its temporary folder is gone when it ends (kept with
`--keep`), and a failure reads `ocpi-ledger demo: ...`.

The nodes are made to fail at start-up (a malformed setting they inherit), so each run takes
seconds: the backends start, the nodes exit, the demo stops everything and cleans up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_demo(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "OCPI_LEDGER_FORWARD_TIMEOUT": "soon"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "p2p", *flags],
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
