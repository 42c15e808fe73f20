"""The handler / head-of-subtree rule is one rule: its SQL form lists whom `standing` opens (C1.3).

`standing` is what the door, access requests and `decide` ask; `standing_clause` is the same
rule as SQL, for listing. Both are asked the same question here, for every relation.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, literal, select

from baomi.security.actor import Actor
from baomi.security.policy import CustomerFacts, Reason, heads, standing, standing_clause
from baomi.security.roles import Role

RELATIONS = {
    "handler": (Reason.HANDLER, "me", "dept-other"),
    "head": (Reason.DEPARTMENT_HEAD, "someone", "dept-headed"),
    "head of a subdepartment": (Reason.DEPARTMENT_HEAD, "someone", "dept-below"),
    "stranger": (None, "someone", "dept-other"),
}


def _actor(headed: frozenset[str]) -> Actor:
    return Actor(
        user_id="me",
        username="me",
        display_name="Me",
        roles=frozenset({Role.DEPARTMENT_HEAD if headed else Role.SALESPERSON}),
        department_id="dept-own",
        employment_type="full_time",
        headed_departments=headed,
    )


@pytest.mark.parametrize("relation", sorted(RELATIONS))
@pytest.mark.parametrize("headed", [frozenset(), frozenset({"dept-headed", "dept-below"})])
def test_the_sql_form_of_the_rule_agrees_with_the_rule(
    relation: str, headed: frozenset[str]
) -> None:
    expected, handler, department = RELATIONS[relation]
    actor = _actor(headed)
    facts = CustomerFacts(id="c-1", level="normal", handler_id=handler, department_id=department)
    reason = standing(actor, facts)
    if not headed and expected is Reason.DEPARTMENT_HEAD:
        expected = None  # nobody heads anything: the head relations are strangers now
    assert reason is expected

    clause = standing_clause(actor, handler_id=literal(handler), department_id=literal(department))
    with create_engine("sqlite://").connect() as conn:
        listed = bool(conn.execute(select(clause)).scalar_one())
    assert listed is (reason is not None)


def test_heading_covers_the_subtree_the_actor_was_loaded_with() -> None:
    actor = _actor(frozenset({"dept-headed", "dept-below"}))
    assert heads(actor, "dept-below") and not heads(actor, "dept-other")
