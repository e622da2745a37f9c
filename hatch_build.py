"""Hatchling build hook: vendor htmx from npm into ``flask_pco/static/pco/vendor/``.

htmx is pinned in ``package.json``/``package-lock.json`` and installed with ``npm ci`` so every
build ships the same audited file; the copy is gitignored and marked as a wheel artifact, so
``pip install .`` and ``pip install -e .`` both produce it and nobody commits a minified blob.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDORED = {"node_modules/htmx.org/dist/htmx.min.js": "flask_pco/static/pco/vendor/htmx.min.js"}


class VendorAssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist carries package.json and the lock; its wheel build runs npm
        root = Path(self.root)
        install_node_packages(root)
        for source, target in VENDORED.items():
            destination = root / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / source, destination)
            build_data["artifacts"].append(target)


def install_node_packages(root: Path) -> None:
    """``npm ci`` from the lock file, or stop the build with the reason and the fix."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "flask-pco build: npm is not installed, and it is needed to vendor htmx into "
            "flask_pco/static/pco/vendor/. Install Node.js (with npm) and build again."
        )
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=root, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask-pco build: `npm ci` failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
