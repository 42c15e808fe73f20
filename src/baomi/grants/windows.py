"""When a grant given by hand starts and ends (C4.2.1, C4.3.1, issue 17.8).

The window comes from `starts_at` (default now) and either `ends_at` or `duration_hours`; an
emergency grant must also start about now and last at most the emergency limit. The customer's
level bounds every grant too; the grant service checks that, once it knows the customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from baomi.errors import ValidationFailed
from baomi.grants.schemas import GrantIn

# A grant may be dated a little back (clocks differ, forms take time), never into history:
# a window in the past grants nothing and only muddies the record of who could see what.
START_SLACK = timedelta(minutes=5)
# ...nor far ahead, where it would sit unnoticed as a standing permission.
START_AHEAD = timedelta(days=7)


def emergency_window(grant_in: GrantIn, now: datetime, max_hours: int) -> tuple[datetime, datetime]:
    starts_at, ends_at = window(grant_in, now)
    if not now - START_SLACK <= starts_at <= now + START_AHEAD:
        raise ValidationFailed(
            [
                {
                    "field": "starts_at",
                    "code": "start_out_of_range",
                    "message": "a grant starts between five minutes ago and seven days ahead",
                }
            ]
        )
    if ends_at - starts_at > timedelta(hours=max_hours):
        raise ValidationFailed(
            [
                {
                    "field": "duration_hours" if grant_in.duration_hours else "ends_at",
                    "code": "emergency_grant_too_long",
                    "message": f"an emergency grant lasts at most {max_hours} hours: "
                    "longer access goes through an access request",
                }
            ]
        )
    return starts_at, ends_at


def window(grant_in: GrantIn, now: datetime) -> tuple[datetime, datetime]:
    starts_at = grant_in.starts_at or now
    if grant_in.ends_at is not None and grant_in.duration_hours is not None:
        raise ValidationFailed(
            [
                {
                    "field": "ends_at",
                    "code": "end_given_twice",
                    "message": "give ends_at or duration_hours, not both",
                }
            ]
        )
    if grant_in.ends_at is not None:
        ends_at = grant_in.ends_at
    elif grant_in.duration_hours is not None:
        ends_at = starts_at + timedelta(hours=grant_in.duration_hours)
    else:
        raise ValidationFailed(
            [{"field": "ends_at", "code": "end_required", "message": "a grant must have an end"}]
        )
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(
            [
                {
                    "field": "starts_at",
                    "code": "utc_offset_required",
                    "message": "times need a UTC offset, e.g. 2026-01-01T09:00Z",
                }
            ]
        )
    if ends_at <= starts_at:
        raise ValidationFailed(
            [{"field": "ends_at", "code": "end_before_start", "message": "must be after starts_at"}]
        )
    return starts_at, ends_at
