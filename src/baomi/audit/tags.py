"""Every audited action as one `subject:action` tag (C1.3: whole-process monitoring)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    AUTH_LOGIN = "auth:login"
    AUTH_LOGOUT = "auth:logout"
    AUTH_MFA_ENROL = "auth:mfa_enrol"
    AUTH_MFA_CONFIRM = "auth:mfa_confirm"
    AUTH_LOCKOUT = "auth:lockout"
    AUTH_UNLOCK = "auth:unlock"
    CUSTOMER_LIST = "customer:list"
    CUSTOMER_SEARCH = "customer:search"
    CUSTOMER_READ = "customer:read"
    CUSTOMER_REVEAL = "customer:reveal"
    CUSTOMER_CREATE = "customer:create"
    CUSTOMER_UPDATE = "customer:update"
    CUSTOMER_DELETE = "customer:delete"
    CUSTOMER_CHECK = "customer:check"
    COMMUNICATION_ADD = "communication:add"
    ATTACHMENT_ADD = "attachment:add"
    ATTACHMENT_DOWNLOAD = "attachment:download"
    GRANT_CREATE = "grant:create"
    GRANT_REVOKE = "grant:revoke"
    ACCESS_REQUEST_CREATE = "access_request:create"
    ACCESS_REQUEST_APPROVE = "access_request:approve"
    ACCESS_REQUEST_REJECT = "access_request:reject"
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    DEPARTMENT_CREATE = "department:create"
    KEY_ROTATE = "key:rotate"
    KEY_RETIRE = "key:retire"
    AUDIT_SEARCH = "audit:search"
    AUDIT_VERIFY = "audit:verify"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
