"""Signals a host site connects to, to react when the sync changes something (blinker, as
Flask's own signals are).

Every signal is sent with the Flask app as sender, **after** the transaction that made the change
has committed: never for work that was rolled back (a page the database refused, a cancelled
batch), never for a dry run, and once per record per transaction however many fields changed.
A receiver runs in the app context, after the commit, in the sync's own database session (it
may read; what it writes it commits itself, or hands to a job). A receiver that raises is
logged (one redacted line) and the sync carries on; its half-done transaction is rolled back.

Record signals carry these keyword arguments:

=================  ==========================================================================
``record_type``    the role of the record: ``person``, ``family``, ``family_member``,
                   ``group_membership``
``local_id``       the host row's id (None when the row has none yet)
``pco_id``         PCO's id of the record (None when it is not linked)
``changes``        ``{field: (old, new)}`` by the role's logical field names (``first_name``,
                   ``dob``, ``is_leader``...), values as the change journal keeps them (dates
                   as ISO text); a new record has ``(None, value)`` per field, a link
                   ``{"pco_id": (old, new)}``
``actions``        what happened, in order: ``create``, ``update``, ``link``, ``merge``,
                   ``deactivate``, ``remove``, ``unlink``
``created``        True when the record was created in this transaction (in PCO, when
                   ``side`` is ``pco``)
``side``           which side was written: ``local`` (the site's row), ``pco`` (PCO, by a
                   push) or ``both`` (a push that created a record in PCO and linked the row)
``run_id``         the sync run that made the change (None for a webhook delivery)
``delivery_id``    the webhook delivery that made it (None for a run)
=================  ==========================================================================

=======================  ============================================================================
signal                   sent when
=======================  ============================================================================
``person_pulled``        a pull or a webhook created, updated, linked or merged a local person
``person_pushed``        a push created, linked or updated a person in PCO (``changes``: what was
                         sent)
``person_deactivated``   a person PCO no longer has was made inactive (``changes``:
                         ``{"is_active": (True, False)}``)
``family_changed``       a family or one of its members (``record_type`` ``family_member``) was
                         created, changed, linked, unlinked or removed, by a pull, a push or a
                         webhook
``membership_changed``   a group membership was created, changed or removed, either way
``conflict_recorded``    a field changed on both sides; PCO's value won and the site's was kept
                         for an admin. ``changes``: ``{field: (site's value, PCO's value)}``,
                         ``conflict_ids``: the ``pco_conflict`` rows
``run_started``          a run (or a step of a full run) began: ``run_id``, ``sync_type``,
                         ``direction``, ``trigger``, ``parent_id``
``run_finished``         a run ended: the same, plus ``status``, ``counts`` (created, updated,
                         removed, skipped, held, failed) and ``error_message``
=======================  ============================================================================

A welcome email to each new member::

    from flask_pco import person_pulled

    @person_pulled.connect
    def welcome(app, *, created, local_id, **extra):
        if created:
            send_welcome_email.delay(local_id)  # a job of the site's: reads the address itself

An admin's own changes on the admin page (a conflict settled their way, a held match linked)
send nothing: they are not the sync's.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "conflict_recorded",
    "family_changed",
    "membership_changed",
    "person_deactivated",
    "person_pulled",
    "person_pushed",
    "run_finished",
    "run_started",
    "signals",
]

#: flask-pco's own namespace, as Flask keeps ``flask.signals._signals``.
signals = Namespace()

person_pulled = signals.signal("pco-person-pulled", doc="A local person changed by a pull.")
person_pushed = signals.signal("pco-person-pushed", doc="A person written to PCO by a push.")
person_deactivated = signals.signal("pco-person-deactivated", doc="A person made inactive.")
family_changed = signals.signal("pco-family-changed", doc="A family or its members changed.")
membership_changed = signals.signal("pco-membership-changed", doc="A group membership changed.")
conflict_recorded = signals.signal("pco-conflict-recorded", doc="A field changed on both sides.")
run_started = signals.signal("pco-run-started", doc="A sync run began.")
run_finished = signals.signal("pco-run-finished", doc="A sync run ended.")
