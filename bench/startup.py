"""What a ``flask --app example_app pco ...`` command costs from process start to exit.

    python bench/startup.py                                  # this tree, 5 runs of each
    python bench/startup.py --baseline /tmp/main --repeat 5  # alternating with another tree

``pco --help``, ``pco status`` and ``pco sync people`` (a small sandbox, each sync into a fresh
copy of a SQLite file made by ``flask db upgrade``) run in fresh interpreters; each is timed by
its CPU seconds (user + system, from ``wait4``: the machine is shared, so wall time says more
about the others' load than about us) and its wall seconds, and the medians are printed. With
``--baseline`` the same commands run alternately with another checkout's ``flask_pco`` and
``example_app`` first on ``PYTHONPATH`` (compile its bytecode first: ``python -m compileall``).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Sandbox, sandbox_process  # noqa: E402

COMMANDS = {
    "--help": ["pco", "--help"],
    "status": ["pco", "status"],
    "sync": ["pco", "sync", "people"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50, help="people in the sandbox")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command")
    parser.add_argument("--baseline", help="another checkout to alternate with")
    args = parser.parse_args()
    trees = {"this": str(ROOT), **({"baseline": args.baseline} if args.baseline else {})}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with sandbox_process(args.people) as sandbox, tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.sqlite"
        flask(["db", "upgrade"], environment(sandbox, template, str(ROOT)))
        for _ in range(args.repeat):
            for tree, path in trees.items():
                for name, command in COMMANDS.items():
                    database = Path(folder) / f"{tree}.sqlite"
                    shutil.copyfile(template, database)
                    env = environment(sandbox, database, path)
                    times.setdefault((tree, name), []).append(flask(command, env))
    print(f"load average at end: {os.getloadavg()}")
    for (tree, name), runs in times.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        print(f"{tree:8} pco {name:7} median of {len(runs)}: CPU {cpu:.2f} s, wall {wall:.2f} s")


def environment(sandbox: Sandbox, database: Path, tree: str) -> dict[str, str]:
    """The example site's settings, with ``tree``'s packages first on the path."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PCO_")},
        "PYTHONPATH": tree,
        "SECRET_KEY": "bench",
        "DATABASE_URL": f"sqlite:///{database}",
        "PCO_API_URL": sandbox.url,
        "PCO_APP_ID": sandbox.app_id,
        "PCO_SECRET": sandbox.secret,
    }


def flask(arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of ``flask --app example_app ARGUMENTS``."""
    command = [sys.executable, "-m", "flask", "--app", "example_app", *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    if process.returncode != 0:
        raise SystemExit(f"flask {' '.join(arguments)} failed:\n{output.decode()}")
    return usage.ru_utime + usage.ru_stime, wall


if __name__ == "__main__":
    main()
