"""How fast the sandbox serves, and how much memory it needs, so benchmarks can trust it.

Prints the sandbox's own time (no network: Flask's test client; CPU time of the serving thread,
which a busy host does not inflate, and wall time from the sandbox's request log) to serve a
100-person page with includes and other query shapes, and the resident memory of an
organization of 50,000 people.

    /work/venv/bin/python bench/sandbox.py [--people 50000] [--runs 50]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from flask_pco.sandbox import create_sandbox_app

AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox:sandbox-secret").decode()}
PAGES = {
    "100 people + emails,phone_numbers,addresses,households": (
        "/people/v2/people?per_page=100&offset={offset}&include=emails,phone_numbers,addresses,households"
    ),
    "100 people order=created_at fields[Person]=created_at,updated_at (a full pull's versions)": (
        "/people/v2/people?per_page=100&offset={offset}&order=created_at&fields[Person]=created_at,updated_at"
    ),
    "100 people order=updated_at (cached sort)": (
        "/people/v2/people?per_page=100&offset={offset}&order=updated_at"
    ),
    "incremental sync: where[updated_at][gte]=<30 days ago>&order=updated_at (bisect)": (
        "/people/v2/people?per_page=100&order=updated_at&where[updated_at][gte]={recent}"
    ),
    "100 people where[updated_at][gte]=<years ago>, id order (large result)": (
        "/people/v2/people?per_page=100&offset={offset}&where[updated_at][gte]=2024-01-01T00:00:00Z"
    ),
    "100 people where[first_name]= (full scan)": (
        "/people/v2/people?per_page=100&where[first_name]=Zo%C3%AB"
    ),
}


RECENT = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], fraction: float) -> float:
    return sorted(values)[min(len(values) - 1, int(fraction * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    before = rss_mb()
    started = time.perf_counter()
    app = create_sandbox_app(people=args.people, seed=1, rate_limit=10**9)
    built = time.perf_counter() - started
    sandbox = app.extensions["pco_sandbox"]
    print(f"generated {args.people} people in {built:.1f} s; counts: {sandbox.store.counts()}")
    print(f"memory for {args.people} people: {rss_mb() - before:.0f} MB (RSS growth)")

    client = app.test_client()
    print(f"load average {os.getloadavg()[0]:.1f}; CPU time is the figure to trust on a busy host")
    for label, template in PAGES.items():
        cpu = []
        sandbox.request_log.clear()
        for run in range(args.runs):
            offset = (run * 100) % max(1, args.people - 100)
            started = time.thread_time()
            response = client.get(template.format(offset=offset, recent=RECENT), headers=AUTH)
            cpu.append((time.thread_time() - started) * 1000)
            assert response.status_code == 200, response.data[:200]
        wall = [entry["duration_ms"] for entry in sandbox.request_log]
        print(
            f"{label}: CPU min {min(cpu):.2f} / median {statistics.median(cpu):.2f} / "
            f"p95 {percentile(cpu, 0.95):.2f} ms; "
            f"sandbox's own wall time median {statistics.median(wall):.2f} ms"
        )


if __name__ == "__main__":
    main()
