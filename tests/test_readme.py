"""The README's two set-up commands are the ones that work: they are read from the README and run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    """The command lines of the README's set-up block, in order."""
    block = re.search(r"## Set-up: two commands.*?```bash\n(.*?)```", _readme(), re.DOTALL)
    assert block, "README.md lost its 'Set-up: two commands' bash block"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_has_exactly_two_set_up_commands() -> None:
    assert len(setup_commands()) == 2


def test_the_second_command_is_what_ci_runs() -> None:
    assert setup_commands()[1] == "python -m pytest"
    assert "\npython -m pytest\n" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_first_command_syncs_the_example_site_with_the_embedded_sandbox(
    tmp_path: Path,
) -> None:
    """Everything after the install, as written, on a fresh database; the install itself is
    what CI's own ``pip install -e '.[dev]'`` already did."""
    install, _, site = setup_commands()[0].partition("pip install -e '.[dev]' && ")
    assert install and site, "command 1 should install and then set up the site"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PCO_", "SECRET_KEY"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'church.sqlite'}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", site], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "pull full succeeded" in result.stdout


def test_the_snippet_for_your_site_loads_the_pco_settings_from_the_environment(
    tmp_path: Path,
) -> None:
    """README's "Adding flask-pco to your site" as a site's ``__init__.py``, with the models of
    docs/integrate.md: its PCO_* variables reach the extension."""
    from tests.test_integrate_guide import code_files

    snippet = re.search(
        r"## Adding flask-pco to your site.*?```python\n(.*?)```", _readme(), re.DOTALL
    )
    assert snippet, "README.md lost its 'Adding flask-pco to your site' python block"
    site = tmp_path / "readme_site"
    site.mkdir()
    (site / "__init__.py").write_text(snippet.group(1), encoding="utf-8")
    (site / "models.py").write_text(code_files()["stmarks/models.py"], encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PCO_", "FLASK_"))}
    env.update(
        FLASK_SECRET_KEY="dev",
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}",
        PCO_APP_ID="123456",
        PCO_SECRET="007",
        PCO_API_URL="http://127.0.0.1:5055",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    result = subprocess.run(
        ["flask", "--app", "readme_site", "pco", "config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "PCO_API_URL      http://127.0.0.1:5055" in result.stdout
    assert "credentials      configured" in result.stdout
