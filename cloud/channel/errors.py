"""Errors of the channel domain: stable codes, Chinese messages (problem+json)."""

from __future__ import annotations

from shared.errors import AppError, Conflict, Forbidden, NotFound, Unavailable, ValidationFailed


class AgencyNotFound(NotFound):
    code = "agency_not_found"
    title = "渠道公司不存在"


class BrokerNotFound(NotFound):
    code = "broker_not_found"
    title = "经纪人不存在"


class ReferralNotFound(NotFound):
    code = "referral_not_found"
    title = "报备不存在"


class ProjectNotFound(NotFound):
    code = "project_not_found"
    title = "项目不存在"


class InviteCodeInvalid(ValidationFailed):
    code = "invite_code_invalid"
    title = "邀请码无效或该渠道公司已冻结"


class AlreadyJoined(Conflict):
    code = "broker_already_joined"
    title = "该账号已登记为经纪人"


class StatusChangeNotAllowed(Conflict):
    code = "status_change_not_allowed"
    title = "当前状态不能变更为目标状态"


class BrokerInactive(Forbidden):
    code = "broker_inactive"
    title = "经纪人账号未激活或已冻结，暂不能报备"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "该幂等键已用于另一条报备"


class RulesInvalid(ValidationFailed):
    code = "channel_rules_invalid"
    title = "渠道规则不合法"


class ReviewNotDue(Conflict):
    code = "referral_review_not_due"
    title = "该报备不在待开发商审核状态，或已审核过"


class ReviewCommentRequired(ValidationFailed):
    code = "review_comment_required"
    title = "驳回报备须填写审核意见"


class ProjectClosedToAgency(Forbidden):
    code = "project_closed_to_agency"
    title = "该项目未与您所在的渠道公司合作，暂不能报备"


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    title = "该项目没有这位客户"


class LookupInvalid(ValidationFailed):
    code = "attribution_lookup_invalid"
    title = "请输入完整手机号，或选择一条报备、一位客户（三者只填一个）"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "渠道活动不存在"


class CampaignInvalid(ValidationFailed):
    code = "campaign_invalid"
    title = "渠道活动不合法"


class CampaignOutsideScope(Forbidden):
    code = "campaign_outside_scope"
    title = "该活动包含您无权管理的项目"


class ProfileInvalid(ValidationFailed):
    code = "project_profile_invalid"
    title = "项目资料不合法"


class ReferralNotLive(Conflict):
    code = "referral_not_live"
    title = "该报备已无效或已过保护期，不能生成带看二维码"


class RiskPolicyInvalid(ValidationFailed):
    code = "risk_policy_invalid"
    title = "风控设置不合法"


class RiskCaseNotFound(NotFound):
    code = "risk_case_not_found"
    title = "风控案件不存在"


class RiskCaseClosed(Conflict):
    code = "risk_case_closed"
    title = "该风控案件已处理"


class AppealNotFound(NotFound):
    code = "appeal_not_found"
    title = "申诉不存在"


class AppealDeadlinePassed(ValidationFailed):
    code = "appeal_deadline_passed"
    title = "已超过申诉期限"


class AppealNotAllowed(ValidationFailed):
    code = "appeal_not_allowed"
    title = "该报备不能提起此类申诉"


class AppealAlreadyOpen(Conflict):
    code = "appeal_already_open"
    title = "该报备已有进行中的申诉"


class AppealStateConflict(Conflict):
    code = "appeal_state_conflict"
    title = "申诉当前状态不能执行此操作"


class EvidenceTooLarge(AppError):
    status = 413
    code = "evidence_too_large"
    title = "申诉材料文件过大"


class EvidenceTypeRefused(AppError):
    status = 415
    code = "evidence_type_refused"
    title = "申诉材料只接受图片（JPEG、PNG、WebP）或 PDF"


class EvidenceLimitReached(Conflict):
    code = "evidence_limit_reached"
    title = "每条申诉的材料数量已达上限"


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"
    title = "申诉材料不存在"


class EvidenceStoreUnavailable(Unavailable):
    code = "evidence_store_unavailable"
    title = "申诉材料存储暂不可用"


class RiskVoidNeedsConfirmation(Conflict):
    code = "risk_void_needs_confirmation"
    title = "只有确认的风控案件可以作废归属"


class RiskVoidNeedsReferral(Conflict):
    code = "risk_void_needs_referral"
    title = "该风控案件不涉及报备，没有可作废的归属"


class ProspectingTaskNotFound(NotFound):
    code = "prospecting_task_not_found"
    title = "拓客任务不存在"


class ProspectingTaskInvalid(ValidationFailed):
    code = "prospecting_task_invalid"
    title = "拓客任务不合法"


class ProspectingTaskOutsideScope(Forbidden):
    code = "prospecting_task_outside_scope"
    title = "该任务包含您无权管理的项目"


class ProspectingTaskLocked(Conflict):
    code = "prospecting_task_locked"
    title = "已关闭或已取消的任务不能再修改"


class AnalyticsDimensionUnknown(ValidationFailed):
    code = "analytics_dimension_unknown"
    title = "不支持的分析维度"


class AnalyticsMeasureUnknown(ValidationFailed):
    code = "analytics_measure_unknown"
    title = "不支持的统计指标"


class AnalyticsSortInvalid(ValidationFailed):
    code = "analytics_sort_invalid"
    title = "排序字段须是已选的维度或指标"


class AnalyticsQueryInvalid(ValidationFailed):
    code = "analytics_query_invalid"
    title = "查询条件不合法"


class AnalyticsRangeInvalid(ValidationFailed):
    code = "analytics_range_invalid"
    title = "日期范围不合法：起始日期不能晚于结束日期，跨度不超过 731 天"


class ShareLinkInvalid(NotFound):
    code = "share_link_invalid"
    title = "分享链接无效，请向经纪人索取正确的链接"


class ShareLinkExpired(AppError):
    status = 410
    code = "share_link_expired"
    title = "分享链接已过期，请联系经纪人重新分享"


class ShareTargetEnded(AppError):
    status = 410
    code = "share_target_ended"
    title = "该活动已结束或项目已下线"


class SharePayloadTooLarge(AppError):
    status = 413
    code = "share_payload_too_large"
    title = "提交的内容过大"


class LeadConsentRequired(ValidationFailed):
    code = "lead_consent_required"
    title = "请阅读并勾选同意个人信息授权后再提交"


class LeadProjectInvalid(ValidationFailed):
    code = "lead_project_invalid"
    title = "请选择该活动中的项目"


class LeadNotFound(NotFound):
    code = "lead_not_found"
    title = "线索不存在"


class SavedQueryNotFound(NotFound):
    code = "saved_query_not_found"
    title = "没有这个已保存的查询"


class SavedQueryLimit(ValidationFailed):
    code = "saved_query_limit"
    title = "已保存的查询太多，请先删除不用的查询"


class SavedQueryOutdated(ValidationFailed):
    code = "saved_query_outdated"
    title = "已保存的查询条件已不再受支持，请重新设置后保存"
