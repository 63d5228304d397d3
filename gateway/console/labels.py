"""The console's Chinese: what each status, event, role, warning, command and refusal is called.

The engine speaks in codes (``under_review``, ``SeparationOfDuties``); people at a one-window centre read
the terms of the reform. Each table is total over the engine's own enumeration (``tests/test_console``
checks it), so a new status or event cannot reach a page unnamed.
"""

from __future__ import annotations

from collections.abc import Mapping

from workflows.domain.application import Status
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.complaint import ComplaintStatus
from workflows.domain.events import Channel, Role
from workflows.domain.project import ProjectStatus

STATUSES: Mapping[str, str] = {
    Status.RECEIVED: "待受理",
    Status.CORRECTION_REQUESTED: "待补正",
    Status.UNDER_REVIEW: "审批中",
    Status.SUSPENDED: "中止计时",
    Status.RETURNED: "退回窗口",
    Status.APPROVED: "准予许可",
    Status.ISSUED: "已出证",
    Status.NOT_ACCEPTED: "不予受理",
    Status.REFERRED: "告知向有关机关申请",
    Status.DENIED: "不予许可",
    Status.WITHDRAWN: "已撤回",
    Status.ABANDONED: "视为放弃",
    Status.REVOKED: "已撤销",
    Status.ENDED_WITH_PROJECT: "随项目终止",
    ComplaintStatus.DISPATCHED: "已派单",
    ComplaintStatus.RETURNED: "已退单",
    ComplaintStatus.HANDLING: "办理中",
    ComplaintStatus.REPLIED: "已答复",
    ComplaintStatus.CLOSED: "已办结",
    ComplaintStatus.MERGED: "已并单",
    ProjectStatus.AWAITING_APPLICANT: "待申请人提交",
    ProjectStatus.STAGE_RECEIVED: "阶段材料已收",
    ProjectStatus.IN_STAGE: "阶段审批中",
    ProjectStatus.COMPLETED: "已完成",
    ProjectStatus.DENIED: "不予许可",
    ProjectStatus.WITHDRAWN: "已撤回",
    ProjectStatus.ABANDONED: "视为放弃",
    ProjectStatus.LAPSED: "模拟审批失效",
    ProjectStatus.NOT_FOR_USE: "不得投入使用",
}

ROLES: Mapping[Role, str] = {
    Role.APPLICANT: "申请人",
    Role.STEWARD: "项目管家",
    Role.WINDOW_OFFICER: "综合窗口",
    Role.APPROVER: "审批人员",
    Role.DEPARTMENT_HEAD: "部门负责人",
    Role.GOVERNMENT_LEADER: "政府负责人",
    Role.SUPERVISOR: "监督人员",
    Role.HOTLINE_OPERATOR: "热线话务员",
    Role.SYSTEM: "系统",
}

WARNINGS: Mapping[WarningLevel, str] = {
    WarningLevel.NONE: "正常",
    WarningLevel.NOTICE: "提醒",
    WarningLevel.YELLOW: "黄牌预警",
    WarningLevel.RED: "红牌督办",
}

WARNING_SUBJECTS: Mapping[WarningSubject, str] = {
    WarningSubject.DECISION: "审批期限",
    WarningSubject.DELIVERY: "送达期限",
    WarningSubject.VERIFICATION: "承诺核查期限",
    WarningSubject.INTERNAL_TARGET: "绿色通道内部目标",
    WarningSubject.HANDLING: "投诉办理期限",
}

CHANNELS: Mapping[Channel, str] = {Channel.ONLINE: "网上申请", Channel.WINDOW: "窗口提交"}

EVENTS: Mapping[str, str] = {
    "application_submitted": "收件",
    "correction_requested": "一次性告知补正",
    "materials_supplemented": "补交材料",
    "application_accepted": "受理",
    "accepted_with_deficiencies": "容缺受理",
    "application_not_accepted": "不予受理",
    "application_referred": "告知向有关机关申请",
    "approval_recorded": "审批意见",
    "step_assigned": "转办 / 或签",
    "case_returned": "退回窗口",
    "signer_added": "加签",
    "signer_removed": "减签",
    "step_urged": "催办",
    "application_approved": "准予许可",
    "application_denied": "不予许可",
    "clock_suspended": "中止计时",
    "clock_resumed": "恢复计时",
    "deadline_extended": "延长期限",
    "licence_issued": "出证",
    "licence_revoked": "撤销许可",
    "application_withdrawn": "撤回申请",
    "green_channel_changed": "绿色通道变更",
    "application_abandoned": "视为放弃",
    "application_ended_with_project": "随项目终止",
    "simulation_confirmed": "模拟审批转正",
    "commitment_verified": "承诺核查",
    "commitment_found_untrue": "承诺不实",
    "commitment_rectified": "整改结果",
    "overdue_explained": "超期说明",
    "complaint_linked": "关联投诉",
    "deadlines_planned": "期限计算",
    "warning_raised": "电子监察预警",
    "calendar_revised": "工作日历更新",
    "calendar_year_missing": "工作日历缺年份",
    "trusted_keys_revised": "签名密钥更新",
}

COMMANDS: Mapping[str, str] = {
    "accept_application": "受理",
    "accept_with_deficiencies": "容缺受理",
    "request_correction": "一次性告知补正",
    "reject_application": "不予受理",
    "refer_elsewhere": "告知向有关机关申请",
    "supplement_materials": "登记补交材料",
    "record_approval": "审批意见",
    "suspend_clock": "中止计时",
    "resume_clock": "恢复计时",
    "extend_deadline": "延长期限",
    "return_to_window": "退回窗口",
    "urge_step": "催办",
    "explain_overdue": "超期说明",
    "withdraw_application": "撤回申请",
}
"""The commands the console offers; the others (转办, 加签, 核查, ...) stay with the CLI and the HTTP API."""

REFUSALS: Mapping[str, str] = {
    "NotAuthorised": "无权办理",
    "SeparationOfDuties": "受审分离：受理或经办过本案的人员不得审批",
    "NotAllowed": "本案当前状态不允许此操作",
    "UnknownApplication": "没有您可查看的此编号案件",
    "InvalidCommand": "不符合办理规则",
    "MaterialsIncomplete": "材料不齐全",
    "CorrectionNotOneTime": "补正须一次性告知，已告知过的不得再次补正",
    "DeficiencyNotTolerable": "所缺材料不能容缺",
    "CommitmentNotAllowed": "申请人不适用承诺制或容缺受理",
    "DeadlineOutOfRange": "期限超出允许范围",
    "AcceptanceDeemed": "受理期限已过，依法视为受理",
    "RepeatLimitReached": "此操作次数已达上限",
    "IdempotencyKeyReused": "此表单已提交过另一操作，请刷新页面后重试",
    "AlreadySubmitted": "此编号已有申请",
    "UnknownMatter": "事项目录中没有此事项",
    "CalendarNotPublished": "所涉年份的工作日历尚未发布",
    "RangeInvalid": "统计区间有误",
    "RangeTooLarge": "统计区间内案件过多",
    "RateLimited": "操作过于频繁，请稍后再试",
    "EngineTimeout": "引擎未能及时响应，请稍后重试",
    "EngineUnavailable": "引擎暂不可用，请稍后重试",
    "NotYetRegistered": "案件正在登记，请稍后重试",
    "InternalError": "系统内部错误，已记录",
    "Refused": "引擎拒绝了此请求，已记录",
    "InvalidRequest": "请求有误",
    "Unauthenticated": "请先登录",
    "FormForged": "表单已失效，请刷新页面后重试",
    "SignInNeeded": "请先登录",
    "FormMalformed": "表单格式有误",
    "SessionsFull": "登录人数已满，请稍后再试",
    "BodyTooLarge": "提交的内容过大",
    "StewardAtCapacity": "该项目管家承办的案件已满",
    "ReceiptOutOfRange": "收件时间超出可计期限的范围",
    "NotFound": "没有此页面",
    "Forbidden": "无权查看此页面",
    "MethodNotAllowed": "不支持此操作",
}

FIELD_ERRORS: Mapping[str, str] = {
    "missing": "必须填写",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为是或否",
    "string_type": "应为文字",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "string_pattern_mismatch": "含有不允许的字符",
    "too_short": "至少选择一项",
    "too_long": "选择过多",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "literal_error": "不是可选的值",
    "enum": "不是可选的值",
    "extra_forbidden": "不应填写",
    "value_error": "{error}",
}


INVALID_FORM = "填写有误"  # a form that does not validate, before any rule of the engine is asked


def refusal(error_type: str) -> str:
    """What a refusal of this type is called; the type itself where the table has no name for it."""
    return REFUSALS.get(error_type, error_type)


def field_error(error_type: str, context: Mapping[str, object]) -> str:
    """A field's validation problem in Chinese, with its bound (``不能大于 90``)."""
    text = FIELD_ERRORS.get(error_type)
    if text is None:
        return "格式不正确"
    try:
        return text.format(**context)
    except (KeyError, IndexError):
        return text.split("{", 1)[0].strip() or "格式不正确"
