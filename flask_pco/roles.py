"""The parts a host model can play, the columns each part needs, and the start-up check.

Each role lists its logical fields: required ones the sync cannot work without, optional ones
it fills only where the host has the column (a site without ``is_child`` simply never gets the
flag). ``check_models`` runs at ``init_app`` and turns every mismatch (a missing column, a column
of the wrong type, a model without ``PcoLinkedMixin``) into one message that names the model,
the column and the ``fields=`` mapping that would fix it. ``docs/integrate.md`` shows the same
table; a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable

from flask_pco.exceptions import ConfigError

__all__ = [
    "DEFAULT_FIELDS",
    "ROLES",
    "ROLE_FIELDS",
    "RoleField",
    "Roles",
    "check_models",
]


@dataclass(frozen=True)
class Roles:
    """Which host class plays each part, and the host column behind each logical field."""

    classes: dict[str, type[Any]] = dataclasses.field(default_factory=dict)
    fields: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    #: The host column that says which church a row belongs to (a site of many churches).
    organization_column: str | None = None

    def model(self, role: str) -> type[Any]:
        try:
            return self.classes[role]
        except KeyError:
            raise ConfigError(
                f"no model is registered for {role!r}: call pco.register_models({role}=YourModel)"
            ) from None

    def column(self, role: str, logical: str) -> str:
        """The host attribute name for a logical field."""
        return self.fields.get(role, {}).get(logical, logical)

    def has(self, role: str) -> bool:
        return role in self.classes

    def present(self, role: str, logical: str) -> bool:
        """Whether the host has a column for this field. An optional field it lacks (no
        ``is_child``, no family address) is never read, written or kept in a snapshot."""
        model = self.classes.get(role)
        return model is not None and hasattr(model, self.column(role, logical))

    def known(self, role: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (by logical field) without the fields the host has no column for."""
        return {name: value for name, value in values.items() if self.present(role, name)}

    def columns(self, role: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` by host column name, for a constructor or an INSERT; fields the host
        has no column for are left out."""
        return {self.column(role, name): value for name, value in self.known(role, values).items()}


#: Column kinds, with the Python type the host column must hold and an SQLAlchemy type for it.
KINDS: dict[str, tuple[type, str]] = {
    "text": (str, "String/Text"),
    "date": (date, "Date"),
    "datetime": (datetime, "DateTime"),
    "bool": (bool, "Boolean"),
    "id": (int, "Integer ForeignKey"),
}

KIND_WORDS = {
    "text": "text",
    "date": "a date",
    "datetime": "a date and time",
    "bool": "true/false",
    "id": "an id",
}


@dataclass(frozen=True, slots=True)
class RoleField:
    """One logical field of a role: its kind, whether the host must have it, and what is written."""

    name: str
    kind: str
    required: bool
    #: What the sync writes there (or, for an id, which role's id it holds).
    written: str
    #: The host column it maps to by default, when not ``name``.
    column: str | None = None
    #: For ``id`` fields: the role whose ``id`` the column holds.
    references: str | None = None


def _f(name: str, kind: str, required: bool, written: str, **more: Any) -> RoleField:
    return RoleField(name, kind, required, written, **more)


#: Every role and its logical fields; ``register_models(fields=...)`` maps them to host columns.
ROLE_FIELDS: dict[str, tuple[RoleField, ...]] = {
    "person": (
        _f("first_name", "text", True, "PCO's first name ('' when PCO has only a last name)"),
        _f("last_name", "text", True, "PCO's last name ('' when PCO has only a first name)"),
        _f("dob", "date", True, "PCO's birthdate or NULL; with the names, it matches people"),
        _f("gender", "text", False, "'M', 'F', or PCO's own label as sent; NULL when unset"),
        _f("child", "bool", False, "PCO's child flag", column="is_child"),
        _f("is_active", "bool", False, "False once PCO marks the person inactive or deletes them"),
    ),
    "email": (
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("email", "text", True, "the address as PCO has it"),
        _f("is_primary", "bool", False, "PCO's primary flag"),
    ),
    "phone": (
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("phone", "text", True, "E.164, such as '+15550102345'"),
        _f("kind", "text", False, "PCO's location label: 'Mobile', 'Home', 'Work', ... or NULL"),
        _f("is_primary", "bool", False, "PCO's primary flag"),
    ),
    "family": (
        _f("name", "text", True, "the household's name"),
        _f("street", "text", False, "the primary contact's street lines, joined with ', '"),
        _f("city", "text", False, "the primary contact's city"),
        _f("state", "text", False, "the primary contact's state"),
        _f("zip", "text", False, "the primary contact's zip"),
    ),
    "family_member": (
        _f("family_id", "id", True, "the family's id", references="family"),
        _f("person_id", "id", True, "the person's id", references="person"),
        _f(
            "relationship",
            "text",
            False,
            "'child' or 'adult', from PCO's child flag (kept only with the person's child column)",
        ),
    ),
    "group": (
        _f("name", "text", True, "the department's, group type's or group's name"),
        _f("kind", "text", True, "'department', 'area' (a PCO group type) or 'group'"),
        _f(
            "parent_id",
            "id",
            True,
            "the parent group's id (NULL for the department)",
            references="group",
        ),
        _f("description", "text", False, "PCO's description as plain text"),
    ),
    "group_membership": (
        _f("group_id", "id", True, "the group's id", references="group"),
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("is_leader", "bool", False, "True for PCO's 'leader' role, False for 'member'"),
    ),
    "event": (
        _f("name", "text", True, "the event's name"),
        _f("starts_at", "datetime", False, "the occurrence's start, naive UTC"),
        _f("ends_at", "datetime", False, "the occurrence's end, naive UTC"),
    ),
    "location": (_f("name", "text", True, "the check-in location's name"),),
}

#: The logical fields of each role, in order.
ROLES: dict[str, tuple[str, ...]] = {
    role: tuple(f.name for f in fields) for role, fields in ROLE_FIELDS.items()
}

#: Host column names that differ from the logical names in the default mapping.
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    role: {f.name: f.column for f in fields if f.column}
    for role, fields in ROLE_FIELDS.items()
    if any(f.column for f in fields)
}

#: What ``PcoLinkedMixin`` adds, plus the primary key every role's rows are reached by.
LINK_COLUMNS = ("id", "pco_id", "pco_updated_at", "pco_synced_at", "pco_snapshot")

#: Column names hosts commonly use for a logical field, tried when suggesting a mapping.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("given_name", "forename", "firstname", "first", "given_names"),
    "last_name": ("surname", "family_name", "lastname", "last"),
    "dob": ("birth_date", "birthdate", "date_of_birth", "birthday", "born_on"),
    "gender": ("sex",),
    "child": ("is_child", "child", "is_minor", "minor"),
    "is_active": ("active", "is_current", "current"),
    "email": ("address", "email_address", "mail"),
    "phone": ("number", "phone_number", "telephone", "tel"),
    "kind": ("label", "location", "type", "phone_type"),
    "is_primary": ("primary", "preferred", "is_preferred"),
    "name": ("title", "label", "display_name", "family_name", "household_name"),
    "street": ("address", "street_address", "address_line", "address1"),
    "zip": ("postcode", "postal_code", "zip_code"),
    "state": ("region", "county", "province"),
    "city": ("town",),
    "relationship": ("role", "relation", "member_role"),
    "description": ("summary", "about", "notes"),
    "is_leader": ("leader", "is_leader"),
    "starts_at": ("start", "starts", "start_time", "begins_at", "start_at"),
    "ends_at": ("end", "ends", "end_time", "finishes_at", "end_at"),
}


def check_models(roles: Roles) -> None:
    """Check every registered model against its role; one ``ConfigError`` lists what to fix."""
    problems: list[str] = []
    fixes: dict[str, dict[str, str]] = {}
    for role, model in roles.classes.items():
        problems += _model_problems(role, model, roles, fixes.setdefault(role, {}))
    if not problems:
        return
    mapping = {role: found for role, found in fixes.items() if found}
    hint = f"; map yours with pco.register_models(..., fields={mapping!r})" if mapping else ""
    raise ConfigError("; ".join(problems) + hint + " (docs/integrate.md lists every column)")


def _model_problems(role: str, model: Any, roles: Roles, fix: dict[str, str]) -> list[str]:
    columns = _columns(model)
    name = f"{getattr(model, '__name__', repr(model))} ({role})"
    if columns is None:
        return [f"{name} is not an SQLAlchemy model"]
    lacking = [c for c in LINK_COLUMNS if c not in columns]
    if lacking:
        return [
            f"{name} has no {', '.join(lacking)}: add PcoLinkedMixin to its bases "
            "(from flask_pco import PcoLinkedMixin) and migrate"
        ]
    missing, problems = [], []
    for field in ROLE_FIELDS[role]:
        column = roles.column(role, field.name)
        if column not in columns:
            if field.required or column != _default_column(role, field):
                fix[field.name] = _suggest(role, field, columns, roles) or "<your column>"
                named = repr(column) if column == field.name else f"{column!r} for {field.name}"
                missing.append(f"{named} ({_kind_text(field)})")
        elif not _type_fits(columns[column], field):
            problems.append(
                f"{name} column {column!r} for {field.name} is {columns[column].type}; "
                f"it must hold {_kind_text(field)}"
            )
    if missing:
        problems.insert(0, f"{name} has no column {', '.join(missing)}")
    return problems


def _columns(model: Any) -> Mapping[str, Any] | None:
    """The model's mapped columns by attribute name, without configuring its mappers."""
    try:
        mapper = sa_inspect(model)
    except NoInspectionAvailable:
        return None
    return {key: column for key, column in mapper.columns.items()}


def _default_column(role: str, field: RoleField) -> str:
    return DEFAULT_FIELDS.get(role, {}).get(field.name, field.name)


def _kind_text(field: RoleField) -> str:
    """``a date (Date)``, ``the person's id (Integer ForeignKey)``: what the column must hold."""
    if field.references:
        return f"the {field.references}'s id, {KINDS['id'][1]}"
    return f"{KIND_WORDS[field.kind]}, {KINDS[field.kind][1]}"


def _type_fits(column: Any, field: RoleField) -> bool:
    try:
        python_type = column.type.python_type
    except (NotImplementedError, AttributeError):
        return True  # a custom type: the host knows what it holds
    expected = KINDS[field.kind][0]
    if expected is date:  # a DateTime holds datetimes, which never compare equal to PCO's dates
        return python_type is date
    return issubclass(python_type, expected)


def _suggest(role: str, field: RoleField, columns: Mapping[str, Any], roles: Roles) -> str | None:
    """The host column that most likely plays ``field``: a foreign key to the referenced
    model for ids, else a column with a usual name for it and a fitting type."""
    taken = {roles.column(role, f.name) for f in ROLE_FIELDS[role]}
    free = {k: c for k, c in columns.items() if k not in taken and k not in LINK_COLUMNS}
    if field.references:
        target = roles.classes.get(field.references)
        table = getattr(target, "__table__", None)
        for key, column in free.items():
            if table is not None and any(fk.references(table) for fk in column.foreign_keys):
                return key
        return None
    for candidate in SYNONYMS.get(field.name, ()):
        if candidate in free and _type_fits(free[candidate], field):
            return candidate
    return None
