"""From a row's columns to a lead's fields: the default rule, `--map`, and the values' types.

Default rule for a column, its name compared case-insensitively with spaces, dots and hyphens
read as underscores ("First Name" is `first_name`):
- a lead field the import sets (`email`, `first_name`, `company_name`, ...) maps to that field,
  and so does a common spelling of one (SYNONYMS: `Email Address`, `E-mail`, `Company`,
  `Phone Number`, `Job Title`, ...);
- `custom_variables` holding a JSON object is merged into the lead's custom variables;
- `error` (the column `--report` adds) and fields the API sets itself (`id`, `status`,
  `timestamp_created`, ...: what `leads export` writes besides the lead's own fields) are left out,
  so an export or a report can be imported again as it is;
- any other column becomes a custom variable under its own name.
`--map "Column=field"` overrides the rule for a column; `Column=custom_variables.NAME` makes it a
custom variable NAME; `Column=` leaves it out. A column that becomes a custom variable although
its name looks like a misspelled field (`frist_name`) is pointed out (`ColumnMap.hint`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NamedTuple

import attrs

from .. import _json
from .._generated.models import BulkAddLeadsRequestLead, Lead
from ._errors import UsageError

__all__ = ["LEAD_FIELDS", "SYNONYMS", "ColumnMap", "Target", "normalize", "parse_map"]

CUSTOM: Final = "custom_variables"
REPORT_COLUMN: Final = "error"

# What an import may set on a lead, in the spec's order; custom variables are handled apart.
LEAD_FIELDS: Final = tuple(f for f in attrs.fields_dict(BulkAddLeadsRequestLead) if f != CUSTOM)
_INT_FIELDS: Final = frozenset({"lt_interest_status"})
# Set by the API (or by the import's target): never read from a file unless --map asks.
SERVER_FIELDS: Final = frozenset(attrs.fields_dict(Lead)) - set(LEAD_FIELDS) - {CUSTOM}

Kind = Literal["field", "custom", "custom_json", "drop"]

SYNONYMS: Final = {
    "email": ("e_mail", "email_address", "e_mail_address", "mail", "work_email",
              "business_email", "emailaddress"),
    "first_name": ("first", "firstname", "given_name", "forename"),
    "last_name": ("last", "lastname", "surname", "family_name"),
    "company_name": ("company", "companyname", "organization", "organisation",
                     "organization_name", "employer"),
    "phone": ("phone_number", "phonenumber", "telephone", "tel", "mobile", "mobile_phone",
              "mobile_number", "cell_phone"),
    "website": ("web_site", "website_url", "url", "company_website", "company_url", "homepage",
                "web"),
    "job_title": ("title", "jobtitle", "position"),
    "personalization": ("personalisation", "icebreaker", "ice_breaker", "opening_line"),
}  # fmt: skip
"""Lead field -> other spellings of it that a column may have (compared after `normalize`).
A LinkedIn column has no lead field to go to: the API has none; it stays a custom variable."""
_SYNONYM_OF: Final = {alias: field for field, aliases in SYNONYMS.items() for alias in aliases}
_SPELLINGS: Final = {**{f: f for f in LEAD_FIELDS}, **_SYNONYM_OF}


class Target(NamedTuple):
    """Where a column goes."""

    kind: Kind
    name: str = ""
    """The lead field or the custom variable's name; empty to drop the column."""


# Problems with one row's values: (reason, detail), the reason one of bulk_add's SKIP_REASONS.
Problem = tuple[str, str]


def normalize(name: str) -> str:
    """A column name as compared with field names: "First Name" -> "first_name",
    "E-mail" -> "e_mail"."""
    return _SEPARATORS.sub("_", name.strip().lower()).strip("_")


_SEPARATORS = re.compile(r"[\s.\-_]+")


def parse_map(specs: Iterable[str]) -> dict[str, tuple[str, Target]]:
    """Parse `--map` values ("Email=email,Company=company_name", repeatable).

    Returns normalized column -> (the column as spelled, its target).
    """
    mapping: dict[str, tuple[str, Target]] = {}
    for spec in specs:
        for pair in spec.split(","):
            if not pair.strip():
                continue
            column, sep, field = pair.partition("=")
            column, field = column.strip(), field.strip()
            if not sep or not column:
                raise UsageError(f"--map: {pair.strip()!r} is not COLUMN=FIELD")
            key = normalize(column)
            if key in mapping:
                raise UsageError(f"--map: column {column!r} is mapped twice")
            mapping[key] = (column, _target(column, field))
    return mapping


def _target(column: str, field: str) -> Target:
    if not field:
        return Target("drop")
    if field.startswith(f"{CUSTOM}."):
        name = field[len(CUSTOM) + 1 :]
        if not name:
            raise UsageError(f"--map: {column}={field}: the custom variable needs a name")
        return Target("custom", name)
    if field == CUSTOM:
        return Target("custom_json", CUSTOM)
    if field in LEAD_FIELDS:
        return Target("field", field)
    raise UsageError(
        f"--map: {column}={field}: {field!r} is not a lead field; use one of "
        f"{', '.join(LEAD_FIELDS)}, or {CUSTOM}.NAME, or nothing after '=' to leave it out"
    )


class ColumnMap:
    """The mapping of one import: `--map` plus the default rule, applied row by row."""

    def __init__(self, explicit: Mapping[str, tuple[str, Target]]) -> None:
        """explicit: from `parse_map`."""
        self.explicit = {key: target for key, (_, target) in explicit.items()}
        self.spelled = {key: column for key, (column, _) in explicit.items()}
        self._cache: dict[str, Target] = {}

    def target(self, column: str) -> Target:
        """Where `column` goes."""
        found = self._cache.get(column)
        if found is None:
            found = self._cache[column] = self._resolve(column)
        return found

    def _resolve(self, column: str) -> Target:
        key = normalize(column)
        if key in self.explicit:
            return self.explicit[key]
        if key in _SPELLINGS:
            return Target("field", _SPELLINGS[key])
        if key == CUSTOM:
            return Target("custom_json", CUSTOM)
        if key == REPORT_COLUMN or key in SERVER_FIELDS:
            return Target("drop")
        return Target("custom", column.strip())

    def describe(self, column: str) -> str:
        """Where a column goes, for a person: "email", "custom variable 'Tier'", "left out"."""
        target = self.target(column)
        if target.kind == "field":
            how = "" if normalize(column) in (target.name, *self.explicit) else " (a synonym)"
            return f"{target.name}{how}"
        if target.kind == "custom":
            return f"custom variable {target.name!r}"
        if target.kind == "custom_json":
            return "custom variables (a JSON object)"
        return "left out"

    def hint(self, column: str) -> str | None:
        """For a column that becomes a custom variable by the default rule although its name
        looks like a misspelled field (`frist_name`), what to do about it; else None."""
        key = normalize(column)
        if self.target(column).kind != "custom" or key in self.explicit:
            return None
        close = difflib.get_close_matches(key, list(_SPELLINGS), n=1, cutoff=0.8)
        if not close:
            return None
        field = _SPELLINGS[close[0]]
        return (
            f"{column!r} becomes a custom variable; did you mean {field}? "
            f"(--map '{column}={field}', or --map '{column}=custom_variables.{column}' to keep it)"
        )

    def check_columns(self, columns: Sequence[str], *, for_campaign: bool, path: str) -> list[str]:
        """Check a CSV header against the mapping; return the columns left out by the default rule.

        Raises UsageError when --map names a column the file lacks, when two columns land on one
        field, or when a campaign import has no column for `email`.
        """
        present = {normalize(c) for c in columns}
        for key in self.explicit:
            if key not in present:
                raise UsageError(
                    f"--map: {path} has no column {self.spelled[key]!r}; its columns are "
                    f"{', '.join(columns)}"
                )
        landed: dict[Target, str] = {}
        dropped: list[str] = []
        for column in columns:
            target = self.target(column)
            if target.kind == "drop":
                if normalize(column) not in self.explicit and normalize(column) != REPORT_COLUMN:
                    dropped.append(column)
                continue
            if target.kind == "custom_json":
                continue
            if target in landed:
                where = "field" if target.kind == "field" else "custom variable"
                raise UsageError(
                    f"{path}: columns {landed[target]!r} and {column!r} both map to the {where} "
                    f"{target.name!r}; leave one out with --map '{column}='"
                )
            landed[target] = column
        if for_campaign and Target("field", "email") not in landed:
            raise UsageError(
                f"{path}: no email column (a campaign import needs one); name it with "
                f"--map 'COLUMN=email'"
            )
        return dropped

    def lead(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], Problem | None]:
        """The lead for one row, and what is wrong with its values (None if nothing).

        Empty cells are left out (not sent as ""). A row with a problem must not be sent; the
        problem names the column.
        """
        lead: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        problem: Problem | None = None
        for column, raw in values.items():
            target = self.target(column)
            if target.kind == "drop" or raw is None:
                continue
            value = raw.strip() if isinstance(raw, str) else raw
            if value == "":
                continue
            why: str | None
            if target.kind == "field":
                value, why = _field_value(target.name, value)
                lead[target.name] = value
            elif target.kind == "custom":
                why = _custom_problem(value)
                custom[target.name] = value
            else:
                parsed, why = _custom_object(value)
                custom.update(parsed)
            if why is not None and problem is None:
                problem = ("invalid_lead", f"column {column!r}: {why}")
        if custom:
            lead[CUSTOM] = custom
        return lead, problem


def _field_value(field: str, value: Any) -> tuple[Any, str | None]:
    if field in _INT_FIELDS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str):
            try:
                return int(value), None
            except ValueError:
                pass
        return value, f"{value!r} is not a whole number"
    if isinstance(value, str):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), None  # a phone number or a zip code written as a JSON number
    return value, f"expected text, got {_shown(value)}"


def _custom_problem(value: Any) -> str | None:
    if value is None or isinstance(value, str | int | float | bool):
        return None
    return f"a custom variable holds text, a number or a boolean, not {_shown(value)}"


def _custom_object(value: Any) -> tuple[dict[str, Any], str | None]:
    if isinstance(value, str):
        try:
            value = _json.loads(value)
        except _json.JSONDecodeError as exc:
            return {}, f"not a JSON object ({exc})"
    if not isinstance(value, dict):
        return {}, f"expected a JSON object of custom variables, got {_shown(value)}"
    for name, item in value.items():
        why = _custom_problem(item)
        if why is not None:
            return value, f"{name}: {why}"
    return value, None


def _shown(value: Any) -> str:
    try:
        return _json.dumps(value).decode()
    except TypeError:
        return repr(value)
