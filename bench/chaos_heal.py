"""Self-healing chaos: PCO merges, group membership churn and a webhook outage long enough that
PCO deactivates the site's subscriptions, then the hourly housekeeping and normal traffic.

    python bench/chaos_heal.py                       # 200 people on PostgreSQL, seed 1
    python bench/chaos_heal.py --people 500 --database sqlite

The sandbox (HTTP, in this process) holds the church; the site runs under a real threaded HTTP
server without Redis, so each delivery is applied inside its request (the inline path, as in
``storm.py``). After a full pull and ``webhooks install``: merges of two local profiles and
membership churn arrive as webhooks; then the site's endpoint goes away (server shut down,
port closed) while PCO merges again (kept profile unknown locally, merge before and after the
kept profile's update), changes memberships and edits people. Every delivery fails, is retried
16 times and the subscriptions are deactivated, as PCO does (REFERENCE §6.5).

Time is compressed in two places, and only there: the sandbox waits ``RETRY_DELAY`` between
retries instead of PCO's 30 s up to a day, and the site's stored deliveries are moved back by
``OUTAGE`` (30 minutes, longer than the ``PCO_WEBHOOK_GAP`` of 15 minutes) so the gap catch-up sees the outage
the brief describes. Then the site comes back, the hourly housekeeping runs (subscription
repair, retries, gap catch-up), and webhooks flow again.

A membership PCO deleted during the outage is seen missing by one catch-up listing; the site
runs with ``PCO_REMOVE_AFTER_MISSES=1`` so that one listing removes it (with the default 2 the
next pull would). More than ``PCO_MAX_REMOVALS`` (25) removals in an hour of webhooks are held
for an admin by design; ``--max-removals`` raises it for large churn.

Checks: local state equals a fresh full pull into an empty database, table by table; no PCO
person has two live local rows; the allergies of every merged-away row sit on its survivor.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import app_config, build_app, temp_database, wait_for_run
from bench.processes import Site, free_port

RETRY_DELAY = 0.02  # PCO: 30 s growing to a day; 16 retries take 0.3 s here instead of 5.4 days
OUTAGE = timedelta(minutes=30)
GAP = 15 * 60  # PCO_WEBHOOK_GAP: a catch-up once deliveries stopped for 15 minutes


@dataclass
class HealResult:
    people: int
    requests: int
    deliveries: int
    deliveries_failed: int
    deactivated: int
    repaired: int
    merges: int
    merges_applied: int
    differences: dict[str, list[str]]
    duplicates: int
    allergies_lost: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.duplicates and not self.allergies_lost


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every synced table as PCO ids and values (local ids differ between databases); rows
    PCO removed or merged away are left out, since a fresh pull never sees them. A column
    named ``person_id``, ``family_id`` or ``group_id`` is shown as that row's PCO id."""
    from example_app import models as m

    m.db.session.expire_all()
    linked = {"person_id": m.Person, "family_id": m.Family, "group_id": m.ChurchGroup}
    pco_ids = {
        column: {r.id: r.pco_id for r in model.query.filter(model.pco_removed_at.is_(None))}
        for column, model in linked.items()
    }

    def rows(model: Any, *columns: str) -> list[tuple[Any, ...]]:
        kept = model.query.filter(model.pco_removed_at.is_(None)).all()
        return sorted(
            tuple(
                str(pco_ids[c].get(getattr(r, c)) if c in pco_ids else getattr(r, c))
                for c in columns
            )
            for r in kept
        )

    return {
        "people": rows(m.Person, "pco_id", "first_name", "last_name", "is_active"),
        "emails": rows(m.PersonEmail, "pco_id", "person_id", "email"),
        "phones": rows(m.PersonPhone, "pco_id", "person_id", "phone"),
        "families": rows(m.Family, "pco_id", "name"),
        "family_members": rows(m.FamilyMember, "family_id", "person_id"),
        "groups": rows(m.ChurchGroup, "pco_id", "name"),
        "memberships": rows(m.GroupMembership, "pco_id", "group_id", "person_id", "is_leader"),
        "_live_people": sorted((str(p),) for p in pco_ids["person_id"].values()),
    }


def full_pull() -> None:
    from flask_pco.jobs.queue import start_sync

    run = start_sync("pull", "full", trigger="bench", mode="thread")
    if wait_for_run(run.id).status != "succeeded":
        raise RuntimeError(f"full pull ended {run.status}")


class Church:
    """What people do in PCO: edits, merges and group changes, drawn from one seed."""

    def __init__(self, server: Any, seed: int) -> None:
        self.control, self.store = server.control, server.sandbox.store
        self.rng = random.Random(seed)
        self.merges: list[tuple[str, str]] = []

    def people(self) -> list[str]:
        return sorted(self.store.tables["Person"])

    def merge(self, keep: str, remove: str) -> None:
        self.control.merge_people(keep, remove)
        self.merges.append((keep, remove))

    def churn_memberships(self, count: int) -> None:
        """Join, promote, demote and leave groups (created/updated/destroyed events)."""
        groups = sorted(self.store.tables["Group"])
        for _ in range(count):
            group = self.rng.choice(groups)
            members = self.store.lookup("Membership", "group_id", group)
            inside = {str(self.store.tables["Membership"][m]["person_id"]) for m in members}
            outside = [p for p in self.people() if p not in inside]
            action = self.rng.choice(("join", "role", "leave"))
            if action == "join" or not members:
                if outside:
                    self.control.add_group_membership(group, self.rng.choice(outside))
            elif action == "role":
                member = self.rng.choice(members)
                role = self.store.tables["Membership"][member]["role"]
                new = "member" if role == "leader" else "leader"
                self.control.edit_group_membership(member, role=new)
            else:
                self.control.delete("group_memberships", self.rng.choice(members))

    def edit_people(self, count: int, tag: str) -> None:
        for n, pco_id in enumerate(self.rng.sample(self.people(), count)):
            self.control.edit_person(pco_id, last_name=f"{tag}{n}")


def set_allergies(pco_ids: list[str]) -> dict[str, str]:
    """Local-owned data on the profiles about to be merged away: it must reach the survivor."""
    from example_app.models import Person, db

    noted = {}
    for pco_id in pco_ids:
        row = Person.query.filter_by(pco_id=pco_id).one()
        row.allergies = noted[pco_id] = f"peanuts ({pco_id})"
    db.session.commit()
    return noted


def allergies_lost(merges: list[tuple[str, str]], noted: dict[str, str]) -> list[str]:
    """Merges whose removed profile's allergies are not on the kept profile's live row."""
    from example_app.models import Person, db

    db.session.expire_all()
    lost = []
    for keep, remove in merges:
        if remove not in noted:
            continue
        rows = Person.query.filter_by(pco_id=keep, pco_removed_at=None).all()
        if len(rows) != 1 or noted[remove] not in (rows[0].allergies or ""):
            lost.append(f"{remove} -> {keep}: {[r.allergies for r in rows]}")
    return lost


def wound_back() -> None:
    """The outage lasted ``OUTAGE``: move what the site stored before it back by that much."""
    from flask_pco.extension import current_pco

    state = current_pco()
    Delivery = state.models.WebhookDelivery
    for row in state.db.session.query(Delivery):
        row.received_at = row.received_at - OUTAGE
    state.db.session.commit()


def housekeeping(repair: bool) -> int:
    """The hourly job (``webhook_housekeeping``), inline; with ``repair`` False only its gap
    catch-up, to show what the subscription repair is worth. Returns subscriptions mended."""
    from flask_pco.extension import current_pco
    from flask_pco.jobs.webhooks import check_webhook_gap, webhook_housekeeping

    state = current_pco()
    mended = 0
    if repair:
        result = webhook_housekeeping(state)
        check = result.subscriptions
        mended = len(check.repaired) if check is not None else 0
        started = result.catch_up_queued
    else:
        started = check_webhook_gap(state)
    if not started:
        raise RuntimeError("the housekeeping started no gap catch-up")
    SyncRun = state.models.SyncRun
    latest = state.db.session.query(SyncRun).order_by(SyncRun.id.desc()).first()
    wait_for_run(latest.id)
    return mended


def play(church: Church, site: Site, churn: int, repair: bool) -> tuple[int, int, dict[str, str]]:
    """The scenario, from webhooks installed to the site's endpoint closed at the end. Returns
    the subscriptions PCO deactivated, those the housekeeping mended, and the allergies noted
    on the profiles merged away."""
    control = church.control
    site.up()
    chosen = church.rng.sample(church.people(), 11)
    noted = set_allergies([chosen[i] for i in (1, 2, 4, 6, 8, 10)])
    control.clear_requests()
    # Webhooks flowing: two local profiles merged, groups changing.
    church.merge(chosen[0], chosen[1])
    church.churn_memberships(churn)
    church.edit_people(3, "Live")
    control.flush_webhooks(60)
    # The outage: the endpoint is gone while PCO keeps changing.
    site.down()
    unknown = control.add_person(first_name="Kept", last_name="Unknown")
    church.merge(unknown, chosen[2])  # kept profile unknown locally
    church.merge(chosen[3], chosen[4])  # merge before the kept profile's update
    control.edit_person(chosen[3], last_name="AfterMerge")
    control.edit_person(chosen[5], last_name="BeforeMerge")
    church.merge(chosen[5], chosen[6])  # merge after the kept profile's update
    church.merge(chosen[7], chosen[8])
    church.churn_memberships(churn)
    church.edit_people(3, "Outage")
    control.flush_webhooks(120)
    subscriptions = church.store.tables["Subscription"].values()
    deactivated = sum(1 for s in subscriptions if not s["active"])
    wound_back()
    # The site is back; the hourly housekeeping runs, then webhooks as usual.
    site.up()
    repaired = housekeeping(repair)
    church.merge(chosen[9], chosen[10])
    church.churn_memberships(churn)
    church.edit_people(3, "After")
    control.flush_webhooks(60)
    site.down()
    return deactivated, repaired, noted


def heal_chaos(
    people: int = 200, database: str = "postgresql", seed: int = 1, churn: int = 12,
    repair: bool = True, max_removals: int = 25,
) -> HealResult:  # fmt: skip
    from flask_pco.extension import current_pco
    from flask_pco.sandbox import SandboxServer, create_sandbox_app
    from flask_pco.sync.webhooks.subscriptions import install_subscriptions

    started = time.perf_counter()
    sandbox_app = create_sandbox_app(
        people=people,
        seed=seed,
        webhook_retry_delays=(RETRY_DELAY,),
        rate_limit=100_000,
        rate_period=1,
    )
    with SandboxServer(sandbox_app) as server, temp_database(database) as url:
        bench_sandbox = _Credentials(server)
        port = free_port()
        config = app_config(
            url,
            bench_sandbox,
            PCO_PUBLIC_URL=f"http://127.0.0.1:{port}",
            PCO_WEBHOOK_GAP=GAP,
            PCO_REMOVE_AFTER_MISSES=1,
            PCO_MAX_REMOVALS=max_removals,
        )
        site = Site(build_app(config), port)
        church = Church(server, seed)
        with site.app.app_context():
            full_pull()
            install_subscriptions(current_pco())
            deactivated, repaired, noted = play(church, site, churn, repair)
            local = snapshot()
            lost = allergies_lost(church.merges, noted)
            merges_applied = _merges_applied()
            _close()
        sent = server.control.deliveries()
        requests_made = len(server.control.requests())
        fresh = _fresh_snapshot(bench_sandbox, database)
    live_ids = [row[0] for row in local.pop("_live_people")]
    fresh.pop("_live_people")
    differences = compare(local, fresh)
    return HealResult(
        people=people,
        requests=requests_made,
        deliveries=len(sent),
        deliveries_failed=sum(1 for d in sent if not 200 <= (d.get("status") or 0) < 300),
        deactivated=deactivated,
        repaired=repaired,
        merges=len(church.merges),
        merges_applied=merges_applied,
        differences=differences,
        duplicates=len(live_ids) - len(set(live_ids)),
        allergies_lost=lost,
        seconds=time.perf_counter() - started,
        notes=[f"merged {remove} into {keep}" for keep, remove in church.merges],
    )


def compare(
    local: dict[str, list[tuple[Any, ...]]], fresh: dict[str, list[tuple[Any, ...]]]
) -> dict[str, list[str]]:
    """Per table, the first rows only one side has (none: the tables are equal)."""
    found = {}
    for table, rows in fresh.items():
        mine, theirs = set(local[table]), set(rows)
        if mine != theirs:
            only = sorted(mine ^ theirs)[:6]
            found[table] = [f"{'local' if r in mine else 'fresh'} {r}" for r in only]
    return found


class _Credentials:
    """``bench.common.app_config``'s view of a sandbox: its URL and credential."""

    def __init__(self, server: Any) -> None:
        settings = server.sandbox.settings
        self.url, self.app_id, self.secret = server.url, settings.app_id, settings.secret


def _merges_applied() -> int:
    from flask_pco.extension import current_pco

    state = current_pco()
    Removal = state.models.Removal
    return state.db.session.query(Removal).filter(Removal.action == "merge").count()


def _close() -> None:
    from example_app.models import db

    db.session.remove()
    db.engine.dispose()


def _fresh_snapshot(sandbox: Any, database: str) -> dict[str, list[tuple[Any, ...]]]:
    """The reference: a full pull into an empty database."""
    with temp_database(database) as url, build_app(app_config(url, sandbox)).app_context():
        full_pull()
        view = snapshot()
        _close()
    return view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--churn", type=int, default=12, help="membership changes per phase")
    parser.add_argument(
        "--max-removals", type=int, default=25, help="PCO_MAX_REMOVALS (the site's default: 25)"
    )
    parser.add_argument("--skip-repair", action="store_true", help="housekeeping without repair")
    args = parser.parse_args()
    r = heal_chaos(
        args.people, args.database, args.seed, args.churn, not args.skip_repair, args.max_removals
    )
    print(f"people in PCO            {r.people:,}")
    print(f"PCO requests after the first pull {r.requests:,}")
    print(
        f"webhook deliveries       {r.deliveries:,} ({r.deliveries_failed:,} failed in the outage)"
    )
    print(f"subscriptions            {r.deactivated} deactivated by PCO, {r.repaired} repaired")
    print(
        f"merges                   {r.merges} in PCO, {r.merges_applied} local rows merged (+ relinks)"
    )
    print(f"equal to a fresh pull    {'yes' if not r.differences else 'NO: ' + str(r.differences)}")
    print(f"duplicate local people   {r.duplicates}")
    print(f"allergies lost in merges {len(r.allergies_lost)} {r.allergies_lost or ''}")
    print(f"seconds                  {r.seconds:.1f}")
    print("merged (removed into kept) " + ", ".join(r.notes))
    print("OK" if r.ok else "FAILED")
    raise SystemExit(0 if r.ok else 1)


if __name__ == "__main__":
    main()
