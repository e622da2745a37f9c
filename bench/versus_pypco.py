"""Side by side: ``flask pco sync people`` (CLI included) against a short pypco script.

    python bench/versus_pypco.py                    # 5,000 people, one run of each
    python bench/versus_pypco.py --people 50000 --repeat 3

Both pull the same sandbox (generated people with emails and phones, no rate limit, no
latency), in the same run, on this machine, each into a fresh SQLite file: flask-pco through
the example site's ``flask --app example_app pco sync people`` (its schema made beforehand by
``flask db upgrade``, not timed), the script (``bench/pypco_pull.py``: pypco, sqlite3 and the
obvious indexes) as ``python bench/pypco_pull.py``. Each is timed from process start to exit,
so start-up counts for both. With ``--repeat`` the two alternate and the median ratio is
printed. Needs the ``bench`` extra (pypco). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pull import sandbox_server  # noqa: E402

FLASK = [sys.executable, "-m", "flask", "--app", "example_app"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000, help="people in the sandbox")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; median ratio")
    args = parser.parse_args()
    with sandbox_server(args.people) as url:
        ratios = [_one_round(url, args.people, n) for n in range(1, args.repeat + 1)]
    print(f"median flask-pco / pypco over {len(ratios)}: {statistics.median(ratios):.2f}")


def _one_round(url: str, people: int, n: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        ours = _timed_flask_pco(url, Path(folder) / "site.sqlite", people)
        theirs = _timed_pypco(url, Path(folder) / "script.sqlite", people)
    ratio = ours / theirs
    our_cpu, their_cpu = CPU[-2:]
    print(
        f"run {n}: {people:,} people: flask-pco {ours:.2f} s ({our_cpu:.2f} CPU s), "
        f"pypco script {theirs:.2f} s ({their_cpu:.2f} CPU s), ratio {ratio:.2f} "
        f"(CPU {our_cpu / their_cpu:.2f}; load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return ratio


def _timed_flask_pco(url: str, database: Path, people: int) -> float:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PCO_")},
        "SECRET_KEY": "bench",
        "DATABASE_URL": f"sqlite:///{database}",
        "PCO_API_URL": url,
        "PCO_APP_ID": "sandbox",
        "PCO_SECRET": "sandbox-secret",
    }
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    seconds = _timed([*FLASK, "pco", "sync", "people"], env)
    _check(database, people)
    return seconds


def _timed_pypco(url: str, database: Path, people: int) -> float:
    script = [sys.executable, str(ROOT / "bench" / "pypco_pull.py"), url, str(database)]
    seconds = _timed(script, dict(os.environ))
    _check(database, people)
    return seconds


def _timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of ``command``; its CPU seconds (user + system) are noted in ``CPU``: on a
    machine shared with other work they are the steadier comparison."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    CPU.append(_children_cpu() - cpu)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{result.stdout}{result.stderr}")
    return seconds


#: CPU seconds of each timed command, in order.
CPU: list[float] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _check(database: Path, people: int) -> None:
    """Both wrote everyone, with contacts: a fast run that wrote nothing proves nothing."""
    with sqlite3.connect(database) as db:
        counts = [
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("people", "person_emails", "person_phones")
        ]
    if counts[0] != people or not counts[1] or not counts[2]:
        raise SystemExit(f"{database.name}: people, emails, phones = {counts}; {people} expected")


if __name__ == "__main__":
    main()
