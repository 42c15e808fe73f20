"""`decide` with its catalog worked out once answers exactly as the rule reads (C4.2.1, C4.3.2).

The rule, restated here the plain way: the handler and the head of the customer's department
see every field, a grantee the fields active grants cover; of those, sensitive fields are masked
at every level and the level's own mask set at that level.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from baomi.customers.fields import SENSITIVITY
from baomi.security.actor import Actor
from baomi.security.levels import RANKS
from baomi.security.policy import (
    CustomerAction,
    CustomerFacts,
    Decision,
    FieldCatalog,
    GrantFacts,
    Reason,
    Sensitivity,
    decide,
)
from baomi.security.roles import Role
from tests.support.levels import DEFAULT_LEVELS

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
NAMES = sorted(SENSITIVITY)
RELATIONS = ("handler", "head", "grantee", "stranger")


def _actor(roles: frozenset[Role]) -> Actor:
    return Actor(
        user_id="me",
        username="me",
        display_name="Me",
        roles=roles,
        department_id="dept-own",
        employment_type="full_time",
        headed_departments=frozenset({"dept-headed"}),
    )


def _customer(relation: str, level: str) -> CustomerFacts:
    handler = "me" if relation == "handler" else "someone"
    department = "dept-headed" if relation == "head" else "dept-other"
    return CustomerFacts(id="c-1", level=level, handler_id=handler, department_id=department)


def _expected(
    relation: str,
    level: str,
    catalog: dict[str, Sensitivity],
    grants: list[GrantFacts],
) -> tuple[frozenset[str], frozenset[str]]:
    """Visible and masked fields, computed field by field."""
    if relation in ("handler", "head"):
        visible = set(catalog)
    else:
        visible = set()
        for grant in grants:
            if grant.revoked_at is None and grant.starts_at <= NOW < grant.ends_at:
                visible |= set(catalog) if grant.fields is None else grant.fields & set(catalog)
    level_masks = DEFAULT_LEVELS.rule_of(level).masked_fields
    masked = {
        name for name in visible if catalog[name] is Sensitivity.SENSITIVE or name in level_masks
    }
    return frozenset(visible), frozenset(masked)


grants_st = st.lists(
    st.builds(
        GrantFacts,
        fields=st.none() | st.frozensets(st.sampled_from(NAMES)),
        starts_at=st.sampled_from([NOW - timedelta(hours=2), NOW + timedelta(hours=1)]),
        ends_at=st.sampled_from([NOW - timedelta(minutes=1), NOW + timedelta(hours=2)]),
        revoked_at=st.none() | st.just(NOW - timedelta(minutes=5)),
    ),
    max_size=3,
)
catalogs = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(list(Sensitivity)), min_size=1)


@settings(max_examples=300)
@given(
    relation=st.sampled_from(RELATIONS),
    level=st.sampled_from(sorted(RANKS)),
    action=st.sampled_from([CustomerAction.READ, CustomerAction.REVEAL, CustomerAction.UPDATE]),
    catalog=catalogs,
    grants=grants_st,
)
def test_decide_matches_the_rule_field_by_field(
    relation: str,
    level: str,
    action: CustomerAction,
    catalog: dict[str, Sensitivity],
    grants: list[GrantFacts],
) -> None:
    actor = _actor(frozenset({Role.SALESPERSON}))
    customer = _customer(relation, level)
    visible, masked = _expected(relation, level, catalog, grants)
    decisions = [
        decide(
            actor=actor,
            action=action,
            customer=customer,
            rule=DEFAULT_LEVELS.rule_of(level),
            fields=fields,
            grants=grants,
            now=NOW,
        )
        for fields in (catalog, FieldCatalog(catalog), FieldCatalog(catalog))
    ]
    assert decisions[0] == decisions[1] == decisions[2]
    decision = decisions[0]
    if not visible:
        assert decision == Decision(allowed=False, reason=Reason.NO_RELATION)
    elif relation in ("grantee", "stranger") and action is CustomerAction.UPDATE:
        assert decision == Decision(allowed=False, reason=Reason.GRANT_IS_READ_ONLY)
    else:
        assert decision.allowed
        assert (decision.visible, decision.masked) == (visible, masked)
        assert decision.masked <= decision.visible


def test_a_role_without_customer_work_is_refused_whatever_the_relation() -> None:
    """C4.2.1: the auditor and the administrator get no customer data by their role."""
    catalog = FieldCatalog(SENSITIVITY)
    for roles in ({Role.AUDITOR}, {Role.ADMINISTRATOR}, {Role.SECURITY_OFFICER}):
        decision = decide(
            actor=_actor(frozenset(roles)),
            action=CustomerAction.READ,
            customer=_customer("handler", "normal"),
            rule=DEFAULT_LEVELS.rule_of("normal"),
            fields=catalog,
            now=NOW,
        )
        assert decision == Decision(allowed=False, reason=Reason.ROLE_WITHOUT_CUSTOMER_ACCESS)


def test_each_level_masks_its_own_fields_through_one_catalog() -> None:
    """C4.3.2: one catalog serves every level; no level's mask set leaks into another's."""
    catalog = FieldCatalog(SENSITIVITY)
    actor = _actor(frozenset({Role.SALESPERSON}))
    for _ in range(2):  # the second pass answers from what the first worked out
        for level in sorted(RANKS):
            decision = decide(
                actor=actor,
                action=CustomerAction.READ,
                customer=_customer("handler", level),
                rule=DEFAULT_LEVELS.rule_of(level),
                fields=catalog,
                now=NOW,
            )
            expected = _expected("handler", level, dict(SENSITIVITY), [])[1]
            assert decision.masked == expected
    contact = {n for n, s in SENSITIVITY.items() if s is Sensitivity.CONTACT}
    confidential = decide(
        actor=actor,
        action=CustomerAction.READ,
        customer=_customer("handler", "confidential"),
        rule=DEFAULT_LEVELS.rule_of("confidential"),
        fields=catalog,
        now=NOW,
    )
    normal = decide(
        actor=actor,
        action=CustomerAction.READ,
        customer=_customer("handler", "normal"),
        rule=DEFAULT_LEVELS.rule_of("normal"),
        fields=catalog,
        now=NOW,
    )
    assert contact <= confidential.masked and not contact & normal.masked
