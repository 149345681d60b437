"""The interop venv: the third-party library's own interpreter, built once from requirements.txt.

Its dependencies clash with the node's (pydantic 1 against 2), so it cannot share our venv. The
venv is rebuilt only when requirements.txt changes (a digest stamped inside it), under a file lock
so concurrent pytest processes build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
STAMP = VENV / "requirements.sha256"


def peer_python() -> Path:
    """The interop venv's python, building the venv first when it is missing or stale."""
    python = VENV / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    with open(HERE / ".venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and STAMP.exists() and STAMP.read_text() == digest:
            return python
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        STAMP.write_text(digest)
    return python
