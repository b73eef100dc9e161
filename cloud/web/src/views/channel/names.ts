/** Chinese names of the channel's codes (the server sends the reason texts itself). */
import type { AgencyStatus, BrokerStatus, Owner, ReferralState, Step } from '@/api/channel'
import { formatDateTime } from '@/utils/time'

export const AGENCY_STATUS: Record<AgencyStatus, string> = {
  invited: '已邀请', pending: '待审核', active: '合作中', frozen: '已冻结',
}
export const BROKER_STATUS: Record<BrokerStatus, string> = {
  pending: '待审核', active: '正常', frozen: '已冻结',
}
export const REFERRAL_STATE: Record<ReferralState, string> = {
  pending: '待确认', confirmed: '有效', invalid: '无效', expired: '已失效',
}
export const STATE_TAG: Record<ReferralState, 'warning' | 'success' | 'danger' | 'info'> = {
  pending: 'warning', confirmed: 'success', invalid: 'danger', expired: 'info',
}
export const OWNER_KIND: Record<string, string> = { channel: '渠道', natural: '自然来访', none: '无归属' }
export const STAGE: Record<string, string> = { referral: '报备保护期', visit: '到访保护期', deal: '已成交锁定' }
export const DEAL_STAGE: Record<string, string> = { pledge: '认筹', subscription: '认购', contract: '签约' }

/** The engine's reason codes (docs/attribution.md), for the referral filter. */
const OVERRIDE_SOURCE: Record<string, string> = { appeal: '申诉', risk_case: '风控案件' }

export const REASONS: Record<string, string> = {
  referral_protected: '报备有效，处于报备保护期',
  visit_confirmed: '带看已确认，处于到访保护期',
  deal_in_protection: '保护期内成交，归属锁定',
  pending_confirmation: '报备待确认',
  pending_approval: '报备待开发商审核',
  in_protection: '处于他人保护期',
  already_referred_by_other: '已被其他渠道报备',
  already_visited_by_other: '已被其他渠道带看',
  already_referred_by_you: '您已报备过该客户',
  existing_customer_with_consultant: '已有置业顾问跟进的客户',
  project_old_owner: '项目老业主',
  group_old_owner: '集团老业主',
  other_mode_customer: '其他判客模式的客户',
  suspected_duplicate: '疑似重号',
  phone_policy_violation: '号码格式不符合本项目的报备要求',
  name_policy_violation: '客户姓名不符合本项目的报备要求',
  live_referral_cap: '您的有效报备已达上限',
  re_referral_not_allowed: '该客户报备失效后不允许再次报备',
  lead_time_not_met: '未满足防截客时间',
  completion_missing: '未按要求补全号码',
  mask_mismatch: '补全号码与隐号不符',
  rejected_by_developer: '开发商审核未通过',
  not_approved: '到访时报备尚未通过开发商审核',
  customer_visited_alone: '客户已自行到访，未经带看确认',
  visit_overdue: '到访逾期',
  deal_overdue: '成交逾期',
  follow_up_lapsed: '跟进逾期',
  // 人工改判 (overrides) and what they do to the customer's other referrals.
  appeal_upheld: '申诉成立，渠道经理已改判',
  risk_voided: '风控复核确认异常，归属已作废',
  risk_blocked: '触发风控拦截，报备未被受理，可申诉',
  claim_overridden: '经人工改判，客户已归属其他报备',
}

/** Who owns the customer, in one line: 渠道：王五（渠道A），到访保护期至 … ；置业顾问 李娜 */
export function ownerText(owner: Owner): string {
  let text = OWNER_KIND[owner.kind] ?? owner.kind
  if (owner.kind === 'channel') {
    text += `：${owner.broker_name ?? `经纪人 #${owner.broker_id}`}（${owner.agency_name ?? '个人推荐人'}）`
    if (owner.stage) text += `，${STAGE[owner.stage]}`
    if (owner.protection_until) text += `至 ${formatDateTime(owner.protection_until, 'YYYY-MM-DD HH:mm')}`
  }
  if (owner.consultant_name) text += `；置业顾问 ${owner.consultant_name}`
  if (owner.in_public_pool) text += '；公客池'
  return text
}

/** What one step of the timeline says happened. */
export function factText(step: Step): string {
  const f = step.fact
  const broker = `${f.broker_name ?? `经纪人 #${f.broker_id}`}（${f.agency_name ?? '个人推荐人'}）`
  switch (step.kind) {
    case 'referral':
      return `${broker} 报备 ${f.customer_name ?? ''} ${f.phone_masked ?? ''}`
    case 'visit':
      return (f.guided ? `渠道带访：${broker}` : '自然到访（无渠道带看）') + (f.actor_name ? `，接待：${f.actor_name}` : '')
    case 'qr_check_in':
      return `扫码带看确认：${broker}` + (f.actor_name ? `，接待：${f.actor_name}` : '')
    case 'follow_up':
      return `${f.actor_name ?? '—'} 跟进（${f.effective ? '有效' : '无效'}）`
    case 'deal':
      return `成交节点：${DEAL_STAGE[f.stage ?? ''] ?? f.stage}`
    case 'referral_review':
      return f.approved ? '开发商审核通过' : '开发商审核未通过'
    case 'consultant_assignment':
      return `分配给置业顾问 ${f.actor_name ?? '—'}`
    case 'rule_change':
      return `规则 v${f.rule_version} 生效`
    case 'override':
      return `${OVERRIDE_SOURCE[f.override_source ?? ''] ?? '人工改判'}${f.override_source_id ? ` #${f.override_source_id}` : ''}：`
        + `${f.actor_name ?? '—'} 改判为${f.override_state ? REFERRAL_STATE[f.override_state] : '—'}`
        + (f.comment ? `（${f.comment}）` : '')
    default:
      return ''
  }
}
