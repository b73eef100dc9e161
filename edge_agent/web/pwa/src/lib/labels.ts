// Chinese names of the customer 360's codes (the server's values stay in English).
import type { Gender, Ownership, PaymentMethod, Stage, VisitSource } from '../api/types'

export const STAGE_LABELS: Record<Stage, string> = {
  visited: '到访',
  pledged: '认筹',
  subscribed: '认购',
  to_sign: '待签约',
  signed: '已签约',
  void: '已失效',
  refunded: '退款',
}

export const OWNERSHIP_LABELS: Record<Ownership, string> = {
  owned: '有效',
  overdue: '逾期',
  public: '公客池',
  invalid: '无效',
}

export const PAYMENT_LABELS: Record<PaymentMethod, string> = {
  full: '一次性',
  commercial_loan: '商业按揭',
  provident_loan: '公积金',
  combined_loan: '组合贷',
  installment: '分期',
}

export const SOURCE_LABELS: Record<VisitSource, string> = {
  natural: '自然来访',
  channel: '渠道带访',
  referral_old_customer: '老带新',
  online: '线上',
  other: '其他',
}

export const GENDER_LABELS: Record<Gender, string> = { male: '男', female: '女', unknown: '未知' }

export const AWARENESS_LABELS: Record<string, string> = {
  passing_by: '路过',
  outdoor_ad: '户外广告',
  online: '网络',
  friend: '朋友介绍',
  old_customer: '老业主推荐',
  channel: '中介/渠道',
  call: '电话',
  event: '活动',
  other: '其他',
}

export const PURPOSE_LABELS: Record<string, string> = { own_use: '自住', investment: '投资' }

/** "90–120 ㎡", "≥ 90 ㎡", or null when neither end is known. */
export function rangeLabel(low: number | null, high: number | null, unit: string): string | null {
  if (low !== null && high !== null) return low === high ? `${low} ${unit}` : `${low}–${high} ${unit}`
  if (low !== null) return `≥ ${low} ${unit}`
  if (high !== null) return `≤ ${high} ${unit}`
  return null
}
