"""Hatchling build hook: vendor htmx from npm into ``flask_pco/static/pco/vendor/``, and for an
editable install compile the sources to bytecode.

htmx is pinned in ``package.json``/``package-lock.json`` and installed with ``npm ci`` so every
build ships the same audited file; the copy is gitignored and marked as a wheel artifact, so
``pip install .`` and ``pip install -e .`` both produce it and nobody commits a minified blob.
"""

from __future__ import annotations

import compileall
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
        if version == "editable":
            compile_sources(root)


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


def compile_sources(root: Path) -> None:
    """Write the bytecode an editable install would otherwise never get where Python is told not
    to write it (``PYTHONDONTWRITEBYTECODE``, read-only deploys): without it every ``flask pco``
    command compiles the modules it imports again (a pip-installed wheel is compiled by pip)."""
    for package in ("flask_pco", "example_app"):
        compileall.compile_dir(root / package, quiet=2)
