"""Every audited action as one `subject:action` tag (C1.3: whole-process monitoring)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    AUTH_LOGIN = "auth:login"
    AUTH_LOGOUT = "auth:logout"
    AUTH_MFA_ENROL = "auth:mfa_enrol"
    AUTH_MFA_CONFIRM = "auth:mfa_confirm"
    AUTH_RECOVERY_CODES = "auth:recovery_codes"
    AUTH_LOCKOUT = "auth:lockout"
    AUTH_UNLOCK = "auth:unlock"
    AUTH_SESSION_END = "auth:session_end"
    AUTH_PASSWORD_CHANGE = "auth:password_change"  # noqa: S105 - a tag, not a password
    AUTH_STEP_UP = "auth:step_up"
    AUTH_CSRF = "auth:csrf"
    # Issue 17.9: a request with a token or cookie that names no live session (sampled).
    AUTH_TOKEN_REFUSED = "auth:token_refused"  # noqa: S105 - a tag, not a token
    CUSTOMER_LIST = "customer:list"
    CUSTOMER_SEARCH = "customer:search"
    CUSTOMER_READ = "customer:read"
    CUSTOMER_REVEAL = "customer:reveal"
    CUSTOMER_CREATE = "customer:create"
    CUSTOMER_UPDATE = "customer:update"
    CUSTOMER_DELETE = "customer:delete"
    CUSTOMER_CHECK = "customer:check"
    # Issue 12 / C4.1.3: how many identifiers found in files are customers' (counts only).
    CUSTOMER_COUNT = "customer:count"
    # Issue 17 / C5: stored data of a customer (a field, or its wrapped data key) that failed
    # its integrity check on a read; the security officer is told.
    CUSTOMER_INTEGRITY_FAILURE = "customer:integrity_failure"
    # C2.2: a level raised or lowered (with from/to), and a confidentiality period that lapsed.
    CUSTOMER_LEVEL_CHANGE = "customer:level_change"
    CUSTOMER_LEVEL_LAPSE = "customer:level_lapse"
    COMMUNICATION_ADD = "communication:add"
    ATTACHMENT_ADD = "attachment:add"
    ATTACHMENT_DOWNLOAD = "attachment:download"
    GRANT_CREATE = "grant:create"
    GRANT_REVOKE = "grant:revoke"
    GRANT_EXPIRED = "grant:expired"
    # C4.3.1: a head's review of an emergency grant (one given outside the approval process).
    GRANT_REVIEW = "grant:review"
    # Reading the list of grants is no audited action; a refusal of it is (C1.3).
    GRANT_LIST = "grant:list"
    ACCESS_REQUEST_CREATE = "access_request:create"
    ACCESS_REQUEST_APPROVE = "access_request:approve"
    ACCESS_REQUEST_REJECT = "access_request:reject"
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    # 三员分立 / C4.2.1: the administrator never knows a working password (activation codes),
    # and what would let an account reach customer data waits for the security officer.
    USER_ACTIVATE = "user:activate"
    USER_PASSWORD_RESET = "user:password_reset"  # noqa: S105 - a tag, not a password
    USER_ROLES_CHANGE = "user:roles_change"
    USER_MOVE = "user:move"
    DEPARTMENT_HEAD_CHANGE = "department:head_change"
    # Issue 19: the administrator corrects a name, an address or an employment type (direct),
    # renames a department (direct); a department moves under another parent and a disabled
    # account is enabled again (approved by the officer when they reach customer data).
    USER_EDIT = "user:edit"
    USER_ENABLE = "user:enable"
    DEPARTMENT_RENAME = "department:rename"
    DEPARTMENT_MOVE = "department:move"
    ACCOUNT_CHANGE_REQUEST = "account_change:request"
    ACCOUNT_CHANGE_APPROVE = "account_change:approve"
    ACCOUNT_CHANGE_REJECT = "account_change:reject"
    DEPARTMENT_CREATE = "department:create"
    KEY_ROTATE = "key:rotate"
    KEY_RETIRE = "key:retire"
    # Issue 17: key check values recorded (or a wrong key refused) at start.
    KEY_CHECK = "key:check"
    # Issue 17.5 / 17.9: records from before row tags sealed and tagged by `baomi init`.
    CUSTOMER_RESEAL = "customer:reseal"
    # Issue 12 (C4.1.2): consent and lawful-basis records of a customer.
    CONSENT_LIST = "consent:list"
    CONSENT_RECORD = "consent:record"
    CONSENT_WITHDRAW = "consent:withdraw"
    # Issue 12 / C4.1.3: a scan of a folder for private ledgers (counts only, never values).
    LEDGER_SCAN = "ledger:scan"
    # Issue 12 item 4 (PIPL art. 44-47): data-subject requests, each step.
    SUBJECT_REQUEST_CREATE = "subject_request:create"
    SUBJECT_REQUEST_CLOSE = "subject_request:close"
    SUBJECT_REQUEST_ACCESS_COPY = "subject_request:access_copy"
    SUBJECT_REQUEST_REMIND = "subject_request:remind"
    AUDIT_SEARCH = "audit:search"
    AUDIT_VERIFY = "audit:verify"
    # A restored older database accepted, with the gap it leaves (audit/restore.py).
    AUDIT_RESTORE_ACCEPT = "audit:restore_accept"
    # Scheduled jobs run as the system (baomi.jobs); the inbox (baomi.notifications).
    JOB_RUN = "job:run"
    NOTIFICATION_READ = "notification:read"
    # The web UI (baomi.web): screen lock and unlock (C4.2.4), language preference, and the
    # activity charts of the home page (C3.2: counts from this log, never customer data).
    AUTH_SCREEN_LOCK = "auth:screen_lock"
    AUTH_SCREEN_UNLOCK = "auth:screen_unlock"
    USER_PREFERENCES = "user:preferences"
    ACTIVITY_VIEW = "activity:view"
    # A page refused to a role that lacks its permission (C4.2.1; 三员分立 shows in the UI too).
    PAGE_OPEN = "page:open"
    # An API route refused to a role that lacks its permission (C1.3: refusals are on record).
    API_CALL = "api:call"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
