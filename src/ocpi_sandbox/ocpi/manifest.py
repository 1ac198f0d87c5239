"""Read the module manifests in ``ocpi_modules/<version>.toml`` that drive versions and version details."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from ..paths import data_dir

__all__ = ["ModuleEntry", "Manifest", "load_manifests", "SUPPORTED_VERSIONS"]

# Highest first: version negotiation picks the first one both sides have.
SUPPORTED_VERSIONS = ("2.3.0", "2.2.1")


class ModuleEntry(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    role: Literal["SENDER", "RECEIVER"]
    enabled: bool = True


class Manifest(msgspec.Struct, forbid_unknown_fields=True):
    version: str
    modules: list[ModuleEntry]

    def published(self, implemented: set[str]) -> list[ModuleEntry]:
        """Return the modules to list in version details: enabled here and implemented by this build."""
        return [m for m in self.modules if m.enabled and m.id in implemented]


def load_manifests(directory: Path | None = None) -> dict[str, Manifest]:
    """Load one manifest per supported version; a missing or malformed file is an error naming the file."""
    directory = directory or data_dir("ocpi_modules")
    manifests = {}
    for version in SUPPORTED_VERSIONS:
        path = directory / f"{version}.toml"
        try:
            manifest = msgspec.toml.decode(path.read_bytes(), type=Manifest)
        except (OSError, msgspec.DecodeError) as exc:
            raise RuntimeError(f"cannot read the OCPI module manifest {path}: {exc}") from exc
        if manifest.version != version:
            raise RuntimeError(f"{path} declares version {manifest.version!r}, expected {version!r}")
        manifests[version] = manifest
    return manifests
