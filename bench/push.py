"""How close a push of N people (+1 email, +1 phone each) gets to PCO's announced budget.

    python bench/push.py                       # 100 people at PCO's real 100 per 20 s (~1 min)
    python bench/push.py --people 1000 --rate 1000/1
    python bench/push.py --people 300 --rate 100/20 --redis-url redis://127.0.0.1:6379/4
    python bench/push.py --people 1000 --rate 1000/1 --already-in-pco 0.3

Runs the real ``push people`` step (engine, client, shared limiter) against a sandbox (in its
own process) that enforces the budget with 429s, on a throw-away SQLite database. Prints the requests sent,
the wall time, the achieved rate as a share of the budget (and of the fastest schedule the
moving window allows), requests PCO refused, and the projection for 5,000 people.

``--already-in-pco F`` puts a share F of the local people into PCO first, unlinked, the way a
church that ran both systems side by side has them: half with the same email and first name,
half with the same name and birth date but no email in PCO. The push must link every one of
them (PCO ends with exactly as many people as the site: 0 duplicates), for no extra request.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxControl
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run

#: Writes per person (Person, Email, PhoneNumber); reads add one index page per 100 people.
WRITES_PER_PERSON = 3


def parse_rate(text: str) -> tuple[int, int]:
    limit, _, period = text.partition("/")
    return int(limit), int(period or 1)


def seed_people(db: Any, count: int) -> None:
    from example_app.models import Person, PersonEmail, PersonPhone

    for n in range(count):
        person = Person(first_name=f"Bench{n}", last_name="Person", dob=birth_date(n))
        db.session.add(person)
        db.session.flush()
        db.session.add(
            PersonEmail(person_id=person.id, email=f"bench{n}@example.org", is_primary=True)
        )
        db.session.add(PersonPhone(person_id=person.id, phone=f"+1555{n:07d}", kind="Mobile"))
    db.session.commit()


def birth_date(n: int) -> date:
    return date(1950, 1, 1) + timedelta(days=n)


def seed_pco(url: str, count: int, share: float) -> int:
    """Put every 1/share-th local person into PCO, unlinked; returns how many."""
    if share <= 0:
        return 0
    step = max(round(1 / share), 1)
    with SandboxControl(url) as control:
        for made, n in enumerate(range(0, count, step)):
            person = {"first_name": f"Bench{n}", "last_name": "Person"}
            if made % 2:
                person["birthdate"] = birth_date(n).isoformat()
            else:
                person["emails"] = [f"bench{n}@example.org"]
            control.add_person(**person)
        control.clear_requests()
        return len(range(0, count, step))


def build_app(database: Path, sandbox_url: str, limit: int, period: int, redis_url: str) -> Any:
    from example_app import create_app
    from example_app.models import db

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "PCO_API_URL": sandbox_url,
            "PCO_APP_ID": "sandbox",
            "PCO_SECRET": "sandbox-secret",
            "PCO_RATE_LIMIT": limit,
            "PCO_RATE_PERIOD": period,
            "PCO_REDIS_URL": redis_url,
        }
    )
    with app.app_context():
        db.create_all()
    return app


@contextmanager
def sandbox_process(limit: int, period: int) -> Iterator[str]:
    """A sandbox in its own process, so it does not share this process's interpreter lock."""
    code = (
        "import sys, time\n"
        "from flask_pco.sandbox import SandboxServer, create_sandbox_app\n"
        f"server = SandboxServer(create_sandbox_app(rate_limit={limit}, rate_period={period}))\n"
        "server.start(); print(server.url, flush=True); sys.stdin.read()\n"
    )
    root = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            yield process.stdout.readline().strip()
        finally:
            process.stdin.close()  # end of input: the server process exits
            process.wait(timeout=30)


def bench(
    people: int, limit: int, period: int, redis_url: str, already: float = 0.0
) -> dict[str, Any]:
    with sandbox_process(limit, period) as url, tempfile.TemporaryDirectory() as folder:
        existing = seed_pco(url, people, already)
        app = build_app(Path(folder) / "bench.sqlite", url, limit, period, redis_url)
        with app.app_context():
            from example_app.models import db

            seed_people(db, people)
            state = current_pco()
            run = queue_run(state, "people", "push")
            started = time.monotonic()
            report = execute_run(state, run, state.client())
            wall = time.monotonic() - started
            with SandboxControl(url) as control:
                log = control.requests()
                in_pco = len(control.state()["records"].get("Person", []))
    statuses = Counter(entry["status"] for entry in log)
    return {
        "report": report.summary(),
        "wall": wall,
        "requests": len(log),
        "statuses": statuses,
        "existing": existing,
        "duplicates": in_pco - people,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--people", type=int, default=100, help="local people to push (default 100)"
    )
    parser.add_argument(
        "--rate", default="100/20", help="budget LIMIT/SECONDS (default PCO's 100/20)"
    )
    parser.add_argument("--redis-url", default="", help="share the budget through Redis (optional)")
    parser.add_argument(
        "--already-in-pco",
        type=float,
        default=0.0,
        metavar="F",
        help="share of the local people already in PCO, unlinked (default 0)",
    )
    args = parser.parse_args()
    if not 0 <= args.already_in_pco <= 1:
        parser.error("--already-in-pco must be between 0 and 1")
    limit, period = parse_rate(args.rate)
    result = bench(args.people, limit, period, args.redis_url, args.already_in_pco)
    budget = limit / period
    requests, wall = result["requests"], result["wall"]
    failed = sum(n for status, n in result["statuses"].items() if status >= 400)
    # The fastest schedule a moving window allows: the first `limit` at once, then the budget.
    fastest = max(requests - limit, 0) / budget
    projected = WRITES_PER_PERSON * 5000 + -(-5000 // 100)
    print(f"people            {args.people}  (budget {limit} per {period} s = {budget:g}/s)")
    print(f"run               {result['report']}")
    print(f"already in PCO    {result['existing']} (unlinked before the push)")
    print(f"PCO duplicates    {result['duplicates']}  (PCO people beyond one per local person)")
    print(f"requests          {requests}  statuses {dict(sorted(result['statuses'].items()))}")
    print(f"failed requests   {failed}")
    print(f"wall time         {wall:.1f} s")
    print(f"achieved/budget   {requests / wall / budget:.3f}  (requests / wall time / budget)")
    print(f"vs fastest legal  {fastest / wall:.3f}  (first window spent at once, then the budget)")
    print(
        f"5,000 people      {projected} requests -> {projected / budget / 60:.0f} min at this budget"
    )


if __name__ == "__main__":
    main()
