"""What a customer read shows, worked out once per visibility, and its response built cheaply.

The audited read runs on every page view (benchmarks/bench_audited_read.py). Which fields a
decision lets the reader see, mask (C4.3.2) or not see at all (C4.2.1) depends only on the
decision's two field sets, of which there are a handful; the response model is built from values
that come from our own database and decryption, so pydantic need not re-check them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from baomi.customers.fields import FIELDS
from baomi.customers.schemas import CustomerOut, DepartmentRef, PersonRef, SensitiveFlag
from baomi.db_direct import Record
from baomi.security.levels import Levels

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class Layout:
    """The fields of one read: opened (catalog order), shown masked, and withheld (sorted)."""

    readable: tuple[str, ...]
    masked: tuple[str, ...]
    withheld: tuple[str, ...]


@lru_cache(maxsize=256)
def layout_of(visible: frozenset[str], masked: frozenset[str]) -> Layout:
    """Return the layout of a read that may see `visible`, of which `masked` masked."""
    readable = tuple(name for name in FIELDS if name in visible)
    return Layout(
        readable=readable,
        masked=tuple(sorted(masked.intersection(readable))),
        withheld=tuple(sorted(set(FIELDS) - visible)),
    )


def trusted(cls: type[M]) -> Callable[..., M]:
    """Return a constructor of `cls` from complete, trusted values: `model_construct` minus its
    per-field search for aliases and defaults.

    It sets exactly what `model_construct` sets. Models for which that would not be all
    (aliases, private attributes, extras, post-init), and calls that do not name every field
    (say, a field added later with a default), go through `model_construct` itself.
    """
    names = tuple(cls.model_fields)
    name_set = frozenset(names)
    plain = (
        not cls.__pydantic_post_init__
        and not cls.__pydantic_root_model__
        and not cls.__private_attributes__
        and cls.model_config.get("extra") != "allow"
        and all(f.alias is None and f.validation_alias is None for f in cls.model_fields.values())
    )

    def construct(**values: Any) -> M:
        if not plain or values.keys() != name_set:
            return cls.model_construct(**values)
        model = cls.__new__(cls)
        _set(model, "__dict__", {name: values[name] for name in names})
        _set(model, "__pydantic_fields_set__", set(names))
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model

    return construct


# Built without re-validation: every value comes from our own database and decryption, and
# this runs on every audited read (benchmarks/bench_audited_read.py).
_customer_out, _person_ref, _department_ref = (
    trusted(CustomerOut),
    trusted(PersonRef),
    trusted(DepartmentRef),
)


def customer_out(
    row: Record,
    levels: Levels,
    reason: str,
    data: dict[str, Any],
    layout: Layout,
    source: str | None,
    flags: list[SensitiveFlag],
) -> CustomerOut:
    """The answer of a read: the row's plaintext columns, the fields as `data`, the layout,
    and the record's source (sealed like a field, opened with them)."""
    rule = levels.rule_of(row.level)
    return _customer_out(
        id=row.id,
        level=row.level,
        level_label=rule.label_zh,
        handler=_person_ref(
            id=row.handler_id, username=row.handler_username, display_name=row.handler_display_name
        ),
        department=_department_ref(id=row.department_id, name=row.department_name),
        source=source,
        lawful_basis=row.lawful_basis,
        confidential_until=row.confidential_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        access=reason,
        data=data,
        masked=list(layout.masked),
        withheld=list(layout.withheld),
        flags=flags,
    )
