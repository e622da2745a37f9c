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
from datetime import date
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable

from flask_pco.exceptions import ConfigError
from flask_pco.field_rules import DEFAULT_RULE, PCO_OWNED, FieldRule, parse_rule, rule_problems
from flask_pco.role_fields import (
    DEFAULT_FIELDS,
    KIND_WORDS,
    KINDS,
    LINK_COLUMNS,
    ROLE_FIELDS,
    ROLES,
    SYNONYMS,
    RoleField,
)

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

    #: Custom fields per role: host column (the field's logical name too) -> the PCO custom
    #: field's name, or its FieldDefinition id.
    custom: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    #: Sync rules per role and logical field, as the host wrote them (``field_rules``).
    rules: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def synced(self, role: str) -> tuple[str, ...]:
        """The fields merged between the site and PCO: PCO-owned ones, then custom columns;
        a field ruled ``ignore`` is not among them."""
        found = self._synced.get(role)
        if found is None:
            names = (*PCO_OWNED.get(role, ()), *self.custom.get(role, {}))
            found = tuple(name for name in names if self.rule(role, name).mode != "ignore")
            self._synced[role] = found
        return found

    def rule(self, role: str, name: str) -> FieldRule:
        """The sync rule of a field (``two_way`` unless the host chose another)."""
        value = self.rules.get(role, {}).get(name)
        return DEFAULT_RULE if value is None else parse_rule(value)

    def rules_of(self, role: str) -> dict[str, FieldRule]:
        """Every field's rule that differs from the default."""
        return {name: parse_rule(value) for name, value in self.rules.get(role, {}).items()}

    #: ``present``'s answers: a pull asks them per record and field (hundreds of thousands of
    #: times for 5,000 people); ``changed`` forgets them when models are registered.
    _present: dict[tuple[str, str], bool] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    #: ``known``'s and ``columns``' choice per (role, the values' field names), for the same
    #: reason: (logical field, host column) of the fields the host has.
    _layouts: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, str], ...]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    #: ``synced``'s answers per role: asked for every record a pull or push compares.
    _synced: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def changed(self) -> None:
        """Forget what was worked out from ``classes``, ``fields``, ``custom`` and ``rules``;
        they were updated."""
        self._present.clear()
        self._layouts.clear()
        self._synced.clear()

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
        found = self._present.get((role, logical))
        if found is None:
            model = self.classes.get(role)
            found = model is not None and hasattr(model, self.column(role, logical))
            self._present[(role, logical)] = found
        return found

    def known(self, role: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (by logical field) without the fields the host has no column for."""
        return {name: values[name] for name, _ in self._layout(role, values)}

    def columns(self, role: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` by host column name, for a constructor or an INSERT; fields the host
        has no column for are left out."""
        return {column: values[name] for name, column in self._layout(role, values)}

    def _layout(self, role: str, values: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        key = (role, tuple(values))
        found = self._layouts.get(key)
        if found is None:
            if len(self._layouts) > _LAYOUTS_KEPT:  # field names come from code: never reached
                self._layouts.clear()
            found = tuple((n, self.column(role, n)) for n in key[1] if self.present(role, n))
            self._layouts[key] = found
        return found


#: ``Roles._layout``'s bound on the combinations it remembers.
_LAYOUTS_KEPT = 1000


def check_models(roles: Roles) -> None:
    """Check every registered model against its role; one ``ConfigError`` lists what to fix."""
    problems: list[str] = []
    fixes: dict[str, dict[str, str]] = {}
    for role, model in roles.classes.items():
        problems += _model_problems(role, model, roles, fixes.setdefault(role, {}))
    problems += _custom_problems(roles)
    synced = {role: (*PCO_OWNED.get(role, ()), *roles.custom.get(role, {})) for role in ROLES}
    problems += rule_problems(roles.rules, synced)
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
        elif field.references and not roles.has(field.references):
            problems.append(
                f"{name} column {column!r} holds a {field.references}'s id: register "
                f"pco.register_models({field.references}=YourModel) too"
            )
    if missing:
        problems.insert(0, f"{name} has no column {', '.join(missing)}")
    return problems


def _custom_problems(roles: Roles) -> list[str]:
    """A custom field needs a host column of its own, on a role that has custom fields."""
    problems = []
    for role, columns in roles.custom.items():
        if role != "person":
            problems.append(f"custom_fields for {role!r}: PCO has custom fields on people only")
            continue
        model = roles.classes.get(role)
        found = _columns(model) if model is not None else None
        builtin = {roles.column(role, f.name) for f in ROLE_FIELDS[role]}
        for column, key in columns.items():
            if column in builtin or column in LINK_COLUMNS:
                problems.append(f"custom field {key!r}: column {column!r} is already synced")
            elif found is not None and column not in found:
                name = getattr(model, "__name__", role)
                problems.append(f"custom field {key!r}: {name} has no column {column!r}")
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
