"""The refusals of a request valid by the document, by operation (issue 18 item 9).

A JSON schema states a request's shape. It cannot state the clock (a grant starts within seven
days from now), another record (a customer's current level, a grantee's or a head's roles, the
department asked for), the configuration of the day (how long an emergency grant may last) or a
secret (the one-time code of a device). Such refusals are listed here with their status and the
reason, and the document names them in the operation's response of that status (api/openapi.py,
also as `x-problem-codes`): a client learns which codes to expect where, and a contract test
tells them from a broken promise (tests/support/contract.py).

Each code is the `code` of a problem's `errors` (422) or of the problem itself (404, 409).
"""

from __future__ import annotations

_NOT_ELIGIBLE = "the handler is not an active salesperson or department head in a department"

# Operation ("METHOD /path", as the document's paths) -> status -> code -> when it is given.
REFUSALS: dict[str, dict[int, dict[str, str]]] = {
    "POST /api/v1/grants": {
        422: {
            "start_out_of_range": "the start is more than five minutes ago or seven days ahead",
            "end_before_start": "the end is not after the start (now, when not given)",
            "emergency_grant_too_long": "an emergency grant is longer than "
            "BAOMI_EMERGENCY_GRANT_MAX_HOURS allows",
            "grant_too_long": "the grant is longer than the customer's level allows (C4.2.1)",
            "user_unknown": "`user_id` names no active user",
            "role_without_customer_access": "the grantee's roles may not hold customer data",
        },
    },
    "POST /api/v1/access-requests": {
        403: {
            "purpose_not_consented": "a customer's consents and bases in force do not cover "
            "`purpose_code` for the fields asked (C4.3.4)",
        },
        422: {"grant_too_long": "the hours are more than the customers' levels allow (C4.2.1)"},
    },
    "POST /api/v1/customers/{customer_id}/reveal": {
        403: {
            "purpose_not_consented": "the customer's consents and bases in force do not cover "
            "`purpose` for these fields (C4.3.4)",
        },
    },
    "POST /api/v1/customers/{customer_id}/consents": {
        422: {
            "given_in_future": "`given_at` is after now",
            "expires_before_given": "`expires_at` is not after `given_at` (now, when not given)",
            "evidence_not_of_customer": "`evidence_attachment_id` is no attachment of this "
            "customer",
        },
    },
    "POST /api/v1/customers/{customer_id}/consents/{consent_id}/withdraw": {
        409: {"consent_already_withdrawn": "the record was withdrawn before"},
        422: {
            "withdrawn_at_out_of_range": "`withdrawn_at` is after now or before the record "
            "was given",
        },
    },
    "POST /api/v1/subject-requests": {
        409: {"no_security_officer": "no active security officer to assign the request to"},
        422: {
            "received_in_future": "`received_at` is after now",
            "identifier_in_note": "`identity_note` holds a phone, ID, credit code, card or "
            "e-mail (the request is stored outside the encrypted vault)",
        },
    },
    "POST /api/v1/subject-requests/{request_id}/close": {
        403: {"forbidden": "a security officer may not record a withdrawal of consent"},
        409: {
            "subject_request_closed": "the request was closed before",
            "consent_already_withdrawn": "the consent record named was withdrawn before",
        },
        422: {
            "identifier_in_note": "`outcome` holds a phone, ID, credit code, card or e-mail",
            "consent_required": "completing a withdrawal without `consent_id`",
            "withdrawn_at_out_of_range": "the request was received before the consent named "
            "was given",
        },
    },
    "GET /api/v1/subject-requests/{request_id}/access-copy": {
        403: {"not_found": "the caller may not read the customer (the security officer)"},
        409: {"not_an_access_request": "the request is not an access request, or was rejected"},
    },
    "POST /api/v1/customers": {
        404: {"not_found": "`handler_id` names nobody"},
        422: {"handler_not_eligible": _NOT_ELIGIBLE},
    },
    "PATCH /api/v1/customers/{customer_id}": {
        404: {"not_found": "`handler_id` names nobody"},
        422: {
            "handler_not_eligible": _NOT_ELIGIBLE,
            "handler_outside_department": "the new handler is outside the head's department",
            "period_not_future": "`confidential_until` is not after today (UTC)",
            "period_nothing_to_lapse_to": "the customer's level has no lower one to lapse to",
        },
    },
    "POST /api/v1/customers/{customer_id}/level-change-requests": {
        422: {"level_not_lower": "the level asked for is not below the customer's current one"},
    },
    "POST /api/v1/auth/mfa/confirm": {
        422: {"otp_mismatch": "the code is not the one the device with the new secret shows now"},
    },
    "POST /api/v1/users": {
        404: {"not_found": "`department_id` names no department"},
        409: {"username_taken": "another account has the username"},
    },
    "PUT /api/v1/users/{user_id}/department": {
        404: {"not_found": "the person, or the department of `department_id`, is not there"},
        409: {
            "already_there": "the person is in that department (or in none) already",
            "department_required": "someone who works with customers would be in none",
        },
    },
    "PUT /api/v1/users/{user_id}/roles": {
        409: {"department_required": "a role that works with customers is for someone in none"},
    },
    "PUT /api/v1/departments/{department_id}/head": {
        404: {"not_found": "the department, or the person of `user_id`, is not there"},
        409: {
            "head_role_required": "the person does not hold the department_head role (a role "
            "added waits for the security officer)",
            "already_head": "the person heads the department already",
        },
    },
}
