"""Scale: project a 5,000-person push at PCO's real budget from a measured sample.

    python bench/scale.py                    # 300 people + email + phone at 100 per 20 s (~3 min)
    python bench/scale.py --people 100

Pushing 5,000 people with their contacts is ~15,000 requests, about 50 minutes at 100 per 20 s,
so this measures a sample with ``bench/push.py``'s run (the real push step, a sandbox process
enforcing the budget with 429s), and projects 5,000 from the achieved rate. The figure is a
projection, printed next to the spec's estimate (2.5 h at 90 requests a minute). For the pull
of 50,000 people on SQLite and PostgreSQL with peak memory, run ``bench/pull.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.push import WRITES_PER_PERSON, bench

TARGET = 5000
#: The spec's estimate for 5,000 people: 2.5 hours at 90 requests a minute.
SPEC_HOURS, SPEC_PER_MINUTE = 2.5, 90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300, help="sample size (default 300)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("PCO_REDIS_URL", ""), help="share the budget"
    )
    args = parser.parse_args()
    limit, period = 100, 20
    result = bench(args.people, limit, period, args.redis_url)
    budget = limit / period
    share = result["requests"] / result["wall"] / budget
    requests = WRITES_PER_PERSON * TARGET + -(-TARGET // 100)  # + one index page per 100
    projected = requests / (budget * share)
    refused = sum(n for status, n in result["statuses"].items() if status >= 400)
    print(f"sample            {args.people} people: {result['report']}")
    print(
        f"measured          {result['requests']} requests in {result['wall']:.1f} s, {refused} refused"
    )
    print(f"rate              {share:.1%} of the budget ({limit} per {period} s)")
    print(
        f"5,000 people      {requests} requests -> {projected / 60:.0f} min (projected from the sample)"
    )
    print(f"spec's estimate   {SPEC_HOURS} h at {SPEC_PER_MINUTE} requests/min")
    sys.exit(0 if share >= 0.95 and not refused else 1)


if __name__ == "__main__":
    main()
