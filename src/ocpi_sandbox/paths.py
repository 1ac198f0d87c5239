"""Locate the data shipped beside the code: ``presets/`` and ``ocpi_modules/``.

In a checkout (editable install) they sit at the repository root; in a wheel they are packaged under
``ocpi_sandbox/_data/``. ``OCPI_SANDBOX_DATA_DIR`` points somewhere else entirely.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "REPO_ROOT"]

_PACKAGE = Path(__file__).resolve().parent
REPO_ROOT = _PACKAGE.parent.parent


def data_dir(name: str) -> Path:
    """Return the directory ``name`` (``"presets"`` or ``"ocpi_modules"``)."""
    override = os.environ.get("OCPI_SANDBOX_DATA_DIR")
    for base in ([Path(override)] if override else []) + [REPO_ROOT, _PACKAGE / "_data"]:
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ directory; set OCPI_SANDBOX_DATA_DIR to the folder holding it")
