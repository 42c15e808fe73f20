"""Every notification text in one place: (kind, params, locale) → a short title and body.

Chinese (zh_CN) is the default; English follows. The strings are kept together here so that the
web UI can move them to its Babel catalogs later without hunting through the code. They are filled
only from a notification's params, which never hold customer data (see `kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from baomi.notifications.kinds import Kind, Param

Locale = Literal["zh_CN", "en"]
DEFAULT_LOCALE: Locale = "zh_CN"
LOCALES: tuple[Locale, ...] = ("zh_CN", "en")

# message key (the kind, or kind.variant) → locale → (title, body)
TEMPLATES: dict[str, dict[Locale, tuple[str, str]]] = {
    "request_to_approve": {
        "zh_CN": (
            "访问申请待您审批",
            "{requester_name}（{requester}）申请访问 {customer_count} 位客户的资料，"
            "期限 {hours} 小时，需要您审批。",
        ),
        "en": (
            "Access request awaiting your approval",
            "{requester_name} ({requester}) asks for access to {customer_count} customer "
            "record(s) for {hours} hour(s) and needs your decision.",
        ),
    },
    "request_to_approve.level_change": {
        "zh_CN": (
            "密级调整申请待您审批",
            "{requester_name}（{requester}）申请调低 {customer_count} 位客户的密级，需要您审批。",
        ),
        "en": (
            "Level change awaiting your approval",
            "{requester_name} ({requester}) asks to lower the level of {customer_count} "
            "customer record(s) and needs your decision.",
        ),
    },
    "request_decided.approved": {
        "zh_CN": (
            "您的访问申请已批准",
            "{who_zh}批准了您的访问申请（{customer_count} 位客户），访问权限有效至 {ends_at}。",
        ),
        "en": (
            "Your access request was approved",
            "{who_en} approved your access request ({customer_count} customer record(s)); "
            "access lasts until {ends_at}.",
        ),
    },
    "request_decided.rejected": {
        "zh_CN": (
            "您的访问申请已驳回",
            "{who_zh}驳回了您的访问申请（{customer_count} 位客户）。",
        ),
        "en": (
            "Your access request was rejected",
            "{who_en} rejected your access request ({customer_count} customer record(s)).",
        ),
    },
    "request_decided.level_change.approved": {
        "zh_CN": ("您的密级调整申请已批准", "{who_zh}批准了您调低客户密级的申请。"),
        "en": (
            "Your level change was approved",
            "{who_en} approved your request to lower a customer record's level.",
        ),
    },
    "request_decided.level_change.rejected": {
        "zh_CN": ("您的密级调整申请已驳回", "{who_zh}驳回了您调低客户密级的申请。"),
        "en": (
            "Your level change was rejected",
            "{who_en} rejected your request to lower a customer record's level.",
        ),
    },
    "grant_revoked": {
        "zh_CN": (
            "您的访问权限已被撤销",
            "{who_zh}撤销了您对一位客户资料的访问权限，即时生效。",
        ),
        "en": (
            "Your access was revoked",
            "{who_en} revoked your access to a customer record; it ends now.",
        ),
    },
    "grant_expiring": {
        "zh_CN": (
            "访问权限即将到期",
            "您对 {grant_count} 位客户资料的访问权限将于 {ends_at} 到期。"
            "如仍有工作需要，请重新申请。",
        ),
        "en": (
            "Your access ends soon",
            "Your access to {grant_count} customer record(s) ends at {ends_at}. If your work "
            "still needs it, file a new request.",
        ),
    },
    "emergency_grant": {
        "zh_CN": (
            "紧急授权：有人获得了客户资料的访问权限",
            "保密员{by_name}（{by}）未经审批流程，紧急授权{grantee_name}（{grantee}）访问您负责的"
            "一位客户的资料，期限 {hours} 小时。请复核这项授权。",
        ),
        "en": (
            "Emergency grant: someone was given access to a customer record",
            "The security officer {by_name} ({by}) gave {grantee_name} ({grantee}) access to a "
            "customer record you are responsible for, outside the approval process, for {hours} "
            "hour(s). Please review this grant.",
        ),
    },
    "password_reset": {
        "zh_CN": (
            "您的密码已被重置",
            "{who_zh}重置了您的密码，您的所有会话已结束。请用管理员交给您的一次性激活码设置新密码。"
            "如果这不是您要求的，请立即联系保密员。",
        ),
        "en": (
            "Your password was reset",
            "{who_en} reset your password and all your sessions have ended. Set a new password "
            "with the one-time code the administrator gives you. If you did not ask for this, "
            "tell the security officer at once.",
        ),
    },
    "account_change_to_approve": {
        "zh_CN": (
            "账户变更待您审批",
            "{who_zh}申请变更{subject_zh}（{change_kind_zh}），生效前需要您审批。",
        ),
        "en": (
            "Account change awaiting your approval",
            "{who_en} asks to change {subject_en} ({change_kind_en}); it takes effect only "
            "once you approve it.",
        ),
    },
    "account_change_decided.approved": {
        "zh_CN": (
            "账户变更已批准",
            "{who_zh}批准了{subject_zh} 的变更（{change_kind_zh}），已生效。",
        ),
        "en": (
            "Account change approved",
            "{who_en} approved the change of {subject_en} ({change_kind_en}); it is in effect now.",
        ),
    },
    "account_change_decided.rejected": {
        "zh_CN": ("账户变更已驳回", "{who_zh}驳回了{subject_zh} 的变更（{change_kind_zh}）。"),
        "en": (
            "Account change rejected",
            "{who_en} rejected the change of {subject_en} ({change_kind_en}).",
        ),
    },
    "account_change_notice": {
        "zh_CN": (
            "您的部门有人员变更待审批",
            "{who_zh}申请变更{subject_zh}（{change_kind_zh}），涉及您负责的部门。"
            "保密员批准后生效。",
        ),
        "en": (
            "A change in your department awaits approval",
            "{who_en} asks to change {subject_en} ({change_kind_en}), which concerns a "
            "department you head. It takes effect once the security officer approves it.",
        ),
    },
    "integrity_failure": {
        "zh_CN": (
            "客户资料未通过完整性校验",
            "客户 {customer_id} 的存储数据（{field}）在读取（{during}）时未通过完整性校验："
            "可能被篡改或损坏。该记录暂不可读，其他记录不受影响。请查看审计日志，"
            "并从数据库备份中恢复这条记录。",
        ),
        "en": (
            "Stored customer data failed its integrity check",
            "Stored data of customer {customer_id} ({field}) failed its integrity check during "
            "{during}: it was tampered with or corrupted. The record cannot be read until it is "
            "restored; other records are not affected. See the audit log, and restore the "
            "record from a database backup.",
        ),
    },
    "check_limit_reached.hour": {
        "zh_CN": (
            "查重次数已达上限",
            "{display_name}（{username}）在一小时内查重已达 {limit} 次，之后的查重被拒绝。"
            "批量查重可能是在把客户与负责人对应起来：请了解原因，需要时报告保密员。",
        ),
        "en": (
            "Duplicate-check limit reached",
            "{display_name} ({username}) reached {limit} duplicate checks (查重) within an hour; "
            "further checks are refused. Checking in bulk can map customers to their handlers: "
            "find out why, and tell the security officer if needed.",
        ),
    },
    "check_limit_reached.day": {
        "zh_CN": (
            "查重次数已达上限",
            "{display_name}（{username}）在一天内查重已达 {limit} 次，之后的查重被拒绝。"
            "批量查重可能是在把客户与负责人对应起来：请了解原因，需要时报告保密员。",
        ),
        "en": (
            "Duplicate-check limit reached",
            "{display_name} ({username}) reached {limit} duplicate checks (查重) within a day; "
            "further checks are refused. Checking in bulk can map customers to their handlers: "
            "find out why, and tell the security officer if needed.",
        ),
    },
    "subject_request_overdue": {
        "zh_CN": (
            "个人信息主体请求已逾期",
            "客户的{subject_kind_zh}请求已于 {due_on}（UTC）到期（逾期 {days} 天）仍未答复。"
            "《个人信息保护法》要求及时答复：请尽快处理。",
        ),
        "en": (
            "Data-subject request overdue",
            "A customer's {subject_kind} request was due on {due_on} (UTC), {days} day(s) ago, and "
            "has no answer yet. The law asks for a timely answer: please handle it now.",
        ),
    },
    "damaged_data_keys": {
        "zh_CN": (
            "密钥轮换跳过了损坏的数据密钥",
            "轮换到主密钥版本 {target_version} 时，有 {key_count} 个数据密钥未通过完整性校验，"
            "已跳过，轮换仍未完成。请从数据库备份中恢复这些数据密钥后再次运行 "
            "`baomi keys rotate`；在此之前旧版本不能停用。",
        ),
        "en": (
            "Key rotation passed over damaged data keys",
            "Rotating to master key version {target_version}, {key_count} data key(s) failed "
            "their integrity check and were left as they are; the rotation is unfinished. "
            "Restore them from a database backup and run `baomi keys rotate` again; the old "
            "version cannot be retired until then.",
        ),
    },
    "grant_expired": {
        "zh_CN": (
            "访问权限已到期",
            "您对 {grant_count} 位客户资料的访问权限已于 {ends_at} 到期。",
        ),
        "en": (
            "Your access has ended",
            "Your access to {grant_count} customer record(s) ended at {ends_at}.",
        ),
    },
}

# What an account change does, in a notification's words.
CHANGE_KINDS = {
    "roles": {"zh_CN": "角色", "en": "roles"},
    "head": {"zh_CN": "任命部门负责人", "en": "head of a department"},
    "department": {"zh_CN": "调动部门", "en": "move to another department"},
    "parent": {"zh_CN": "调整上级部门", "en": "move under another department"},
    "enable": {"zh_CN": "重新启用账户", "en": "enable the account again"},
}

# Who acted, when no person did: the local operator at the server (CLI) or the system.
SOMEONE = {"zh_CN": "服务器操作员", "en": "an operator at the server"}

MAIL_SUBJECT_PREFIX = "[保密 baomi]"
MAIL_OPEN_LINK = {"zh_CN": "在 baomi 中查看：{url}", "en": "Open in baomi: {url}"}
MAIL_FOOTER = (
    "此邮件由 baomi 自动发送，请勿回复。\nSent automatically by baomi; please do not reply."
)


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str


class _Filled(dict[str, str]):
    """Params ready for str.format_map; a param an old row lacks shows as a dash, not an error."""

    def __missing__(self, key: str) -> str:
        return "—"


def _when(value: Param) -> str:
    if not isinstance(value, str):
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _who(params: Mapping[str, Param], locale: Locale) -> str:
    name, username = params.get("by_name"), params.get("by")
    if not isinstance(name, str) or not isinstance(username, str):
        return SOMEONE[locale]
    return f"{name}（{username}）" if locale == "zh_CN" else f"{name} ({username})"


# Data-subject request kinds as the Chinese notice names them (issue 12 item 4).
SUBJECT_REQUEST_KINDS = {
    "access": "查阅复制",
    "correction": "更正",
    "deletion": "删除",
    "withdrawal": "撤回同意",
}


def _key(kind: Kind, params: Mapping[str, Param]) -> str:
    key = kind.value
    if params.get("request_kind") == "level_change":
        key += ".level_change"
    if kind in (Kind.REQUEST_DECIDED, Kind.ACCOUNT_CHANGE_DECIDED):
        key += ".approved" if params.get("outcome") == "approved" else ".rejected"
    if kind is Kind.CHECK_LIMIT_REACHED:
        key += ".day" if params.get("period") == "day" else ".hour"
    return key


def render(kind: Kind | str, params: Mapping[str, Param], locale: Locale) -> Rendered:
    """Return the title and body of a notification in the given locale."""
    kind = Kind(kind)
    title, body = TEMPLATES[_key(kind, params)][locale]
    filled = _Filled(
        {k: str(v) for k, v in params.items() if isinstance(v, str | int) and k != "ends_at"}
    )
    filled["ends_at"] = _when(params.get("ends_at"))
    filled["who_zh"] = _who(params, "zh_CN")
    filled["who_en"] = _who(params, "en")
    filled["subject_kind_zh"] = SUBJECT_REQUEST_KINDS.get(str(params.get("subject_kind")), "")
    change_kind = str(params.get("change_kind", ""))
    filled["change_kind_zh"] = CHANGE_KINDS.get(change_kind, {}).get("zh_CN", change_kind)
    filled["change_kind_en"] = CHANGE_KINDS.get(change_kind, {}).get("en", change_kind)
    # An account change is about a person, or (kind parent) about a department that moves.
    if isinstance(department := params.get("department"), str):
        filled["subject_zh"], filled["subject_en"] = (
            f"部门 {department}",
            f"the department {department}",
        )
    else:
        filled["subject_zh"] = f"账户 {filled['username']}"
        filled["subject_en"] = f"the account {filled['username']}"
    return Rendered(title=title.format_map(filled), body=body.format_map(filled))


def normalise_locale(value: str | None) -> Locale | None:
    """Map a language tag (zh, zh-CN, zh_Hans, en-US …) to a supported locale, or None."""
    if not value:
        return None
    tag = value.strip().lower().replace("-", "_")
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> Locale | None:
    """Return the supported locale the browser prefers most (RFC 9110 weights), or None."""
    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate((header or "")[:1000].split(",")[:20]):
        tag, _, weight = part.partition(";")
        quality = 1.0
        if weight.strip().startswith("q="):
            try:
                quality = float(weight.strip()[2:])
            except ValueError:
                continue
        locale = normalise_locale(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None
