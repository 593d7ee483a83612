"""The peer SDK, `instantlyai` from PyPI, in a throwaway venv of its own: bench/.peer-venv.

It is never a dependency of the project: the venv is made on first use (gitignored) and can be
deleted at any time. Its client is only ever pointed at the mock on 127.0.0.1 (see
bench/peer_client.py); the one network access of this module is pip installing the package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._proc import REPO

__all__ = ["PEER_REQUIREMENT", "VENV", "ensure_venv"]

VENV = REPO / "bench" / ".peer-venv"
PEER_REQUIREMENT = "instantlyai==0.7.0"
"""Pinned: the figures are of this version (the latest on PyPI when the benchmark was written)."""

_INSTALL_TIMEOUT = {True: 90.0, False: 300.0}


def _python() -> Path:
    return VENV / "bin" / "python"


def _installed() -> bool:
    python = _python()
    if not python.exists():
        return False
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import instantlyai, sys; sys.exit(instantlyai.__version__ != sys.argv[1])",
            PEER_REQUIREMENT.split("==")[1],
        ],
        capture_output=True,
        check=False,
    )
    return check.returncode == 0


def ensure_venv(quick: bool) -> tuple[str | None, str]:
    """Return (the venv's python, "") once instantlyai is importable there, or (None, why not)."""
    if _installed():
        return str(_python()), ""
    timeout = _INSTALL_TIMEOUT[quick]
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(VENV)],
            capture_output=True,
            check=True,
            timeout=60,
        )
        completed = subprocess.run(
            [
                str(_python()),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                PEER_REQUIREMENT,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"pip install {PEER_REQUIREMENT} took over {timeout:g} s"
    except subprocess.CalledProcessError as exc:
        return None, f"could not create a venv: {exc.stderr!r}"
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if "WARNING" not in line]
        return None, f"pip install {PEER_REQUIREMENT} failed: {' '.join(lines)[-500:]}"
    if not _installed():
        return None, f"{PEER_REQUIREMENT} installed but does not import"
    return str(_python()), ""
