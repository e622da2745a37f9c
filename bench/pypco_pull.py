"""The script a competent developer would write instead of flask-pco: pypco, sqlite3, indexes.

    python bench/pypco_pull.py API_URL DATABASE_FILE [APP_ID SECRET]

Pulls PCO's people with their emails and phones into ``people``, ``person_emails`` and
``person_phones`` with the obvious indexes (PCO id, email, name + birth date, person ids),
matching a person as flask-pco does (PCO id, then email with the first name, then name + birth
date) and replacing their contacts. ``bench/versus_pypco.py`` times it beside ``flask pco sync
people`` on the same sandbox. pypco is the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import sqlite3
import sys

import pypco

SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY, pco_id TEXT UNIQUE, first_name TEXT, last_name TEXT,
    gender TEXT, birthdate TEXT, is_child INTEGER, status TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS people_name_birthdate ON people (last_name, first_name, birthdate);
CREATE TABLE IF NOT EXISTS person_emails (
    id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people (id), pco_id TEXT,
    email TEXT, is_primary INTEGER);
CREATE INDEX IF NOT EXISTS person_emails_email ON person_emails (lower(email));
CREATE INDEX IF NOT EXISTS person_emails_person ON person_emails (person_id);
CREATE TABLE IF NOT EXISTS person_phones (
    id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people (id), pco_id TEXT,
    phone TEXT, kind TEXT, is_primary INTEGER);
CREATE INDEX IF NOT EXISTS person_phones_person ON person_phones (person_id);
"""


def find_person(db: sqlite3.Connection, pco_id: str, a: dict, emails: list[dict]) -> int | None:
    row = db.execute("SELECT id FROM people WHERE pco_id = ?", (pco_id,)).fetchone()
    for email in emails:
        row = (
            row
            or db.execute(
                "SELECT p.id FROM people p JOIN person_emails e ON e.person_id = p.id "
                "WHERE lower(e.email) = lower(?) AND p.first_name = ? AND p.pco_id IS NULL",
                (email["attributes"]["address"], a["first_name"]),
            ).fetchone()
        )
    row = (
        row
        or db.execute(
            "SELECT id FROM people WHERE last_name = ? AND first_name = ? AND birthdate = ? "
            "AND pco_id IS NULL",
            (a["last_name"], a["first_name"], a["birthdate"]),
        ).fetchone()
    )
    return row[0] if row else None


def save(db: sqlite3.Connection, record: dict) -> None:
    person, included = record["data"], record["included"]
    a = person["attributes"]
    emails = [i for i in included if i["type"] == "Email"]
    phones = [i for i in included if i["type"] == "PhoneNumber"]
    values = (person["id"], a["first_name"], a["last_name"], a["gender"], a["birthdate"])
    values += (int(bool(a["child"])), a["status"], a["updated_at"])
    person_id = find_person(db, person["id"], a, emails)
    if person_id is None:
        person_id = db.execute(
            "INSERT INTO people (pco_id, first_name, last_name, gender, birthdate, is_child, "
            "status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        ).lastrowid
    else:
        db.execute(
            "UPDATE people SET pco_id = ?, first_name = ?, last_name = ?, gender = ?, "
            "birthdate = ?, is_child = ?, status = ?, updated_at = ? WHERE id = ?",
            (*values, person_id),
        )
    db.execute("DELETE FROM person_emails WHERE person_id = ?", (person_id,))
    db.execute("DELETE FROM person_phones WHERE person_id = ?", (person_id,))
    db.executemany(
        "INSERT INTO person_emails (person_id, pco_id, email, is_primary) VALUES (?, ?, ?, ?)",
        [
            (person_id, e["id"], e["attributes"]["address"], e["attributes"]["primary"])
            for e in emails
        ],
    )
    db.executemany(
        "INSERT INTO person_phones (person_id, pco_id, phone, kind, is_primary) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (
                person_id,
                p["id"],
                p["attributes"]["e164"],
                p["attributes"]["location"],
                p["attributes"]["primary"],
            )
            for p in phones
        ],
    )


def main(
    api_url: str, database: str, app_id: str = "sandbox", secret: str = "sandbox-secret"
) -> None:
    pco = pypco.PCO(app_id, secret, api_base=api_url)
    db = sqlite3.connect(database)
    db.executescript(SCHEMA)
    people = pco.iterate("/people/v2/people", per_page=100, include="emails,phone_numbers")
    for n, record in enumerate(people, 1):
        save(db, record)
        if n % 100 == 0:
            db.commit()
    db.commit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
