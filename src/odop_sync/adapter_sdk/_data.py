"""Files an adapter package ships (rule data, the documents its sandbox validates against), found
as package data so a wheel works from any working directory."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def _marketplace(package: str) -> str:
    return package.rsplit(".", 1)[-1]  # adapters.amazon -> amazon


def package_path(package: str, *parts: str) -> Path:
    """A file or folder inside an installed package (`adapters.amazon`, "specs")."""
    return Path(str(resources.files(package).joinpath(*parts)))


def adapter_data_file(package: str, name: str) -> Path:
    """A rule-data file of an adapter: the operator's own copy at
    `$ODOP_CONFIG_DIR/<marketplace>/<name>` when there is one, else the file the package ships.
    A named ODOP_CONFIG_DIR that does not exist is an error."""
    folder = os.environ.get("ODOP_CONFIG_DIR")
    if folder:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"ODOP_CONFIG_DIR={folder} is not a folder")
        own = Path(folder) / _marketplace(package) / name
        if own.is_file():
            return own
    return package_path(package, name)


def specs_dir(package: str) -> Path:
    """The marketplace documents a sandbox validates against: the `specs/` folder shipped inside
    the adapter package, or `$ODOP_SPECS_DIR/<marketplace>` when an operator points at another
    copy."""
    override = os.environ.get("ODOP_SPECS_DIR")
    if override:
        return Path(override) / _marketplace(package)
    root = package_path(package, "specs")
    if not root.is_dir():
        raise FileNotFoundError(f"{package} ships no specs/ folder ({root})")
    return root
