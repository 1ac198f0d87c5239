#!/usr/bin/env python3
"""Set up the project's virtual environment and run the sandbox or its tests.

Only the standard library is used here, so this works on a fresh machine with Python 3.11+ and git:

    python3 dev.py serve [ocpi-sandbox serve options]   # install into .venv, then start the sandbox with the
                                                        # small-urban-ac bundle (--preset none: without)
    python3 dev.py test  [pytest options]                # install test extras into .venv, then run the suite

Installs are pinned by ``constraints.txt`` and skipped when nothing changed since the last one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _fingerprint(extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(extra: str) -> None:
    """Create .venv and install the project (editable) with ``extra``, unless already up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"ocpi-sandbox needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    fingerprint = _fingerprint(extra)
    if stamp.exists() and stamp.read_text() == fingerprint:
        return
    target = f".[{extra}]" if extra else "."
    print(f"Installing ocpi-sandbox{f'[{extra}]' if extra else ''} into .venv ...", flush=True)
    cmd = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target]
    if (ROOT / "constraints.txt").exists():
        cmd += ["-c", str(ROOT / "constraints.txt")]
    subprocess.run(cmd, cwd=ROOT, check=True)
    stamp.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        ensure_venv("")
        exe = BIN / "ocpi-sandbox"
        if not any(arg == "--preset" or arg.startswith("--preset=") for arg in rest):
            rest = ["--preset", "small-urban-ac", *rest]  # start with live chargers; --preset none for a bare CPO
        return subprocess.call([str(exe), "serve", *rest], cwd=ROOT)
    ensure_venv("test")
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
