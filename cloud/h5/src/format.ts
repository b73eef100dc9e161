// What the H5 shows: times in Asia/Shanghai, prices in 万元, the Chinese names of codes.
import type { BrokerProject, PhonePolicy, ReferralState } from './api/types'

const SHANGHAI = 'Asia/Shanghai'
const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: SHANGHAI, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
  minute: '2-digit', hour12: false,
})
const dateOnly = new Intl.DateTimeFormat('zh-CN', {
  timeZone: SHANGHAI, year: 'numeric', month: '2-digit', day: '2-digit',
})

export const formatTime = (iso: string | null | undefined): string =>
  iso ? dateTime.format(new Date(iso)) : '—'
export const formatDate = (iso: string | null | undefined): string =>
  iso ? dateOnly.format(new Date(iso)) : '—'

const wan = (yuan: number): string => `${Number((yuan / 10000).toFixed(1))}万`

export function priceBand(p: Pick<BrokerProject, 'price_min_yuan' | 'price_max_yuan'>): string {
  const { price_min_yuan: low, price_max_yuan: high } = p
  if (low === null && high === null) return '价格待定'
  if (low !== null && high !== null) return `总价 ${wan(low)}–${wan(high)}`
  return low !== null ? `总价 ${wan(low)} 起` : `总价 ${wan(high ?? 0)} 以内`
}

export const STATE_LABELS: Record<ReferralState, string> = {
  pending: '待确认',
  confirmed: '有效',
  invalid: '无效',
  expired: '已失效',
}

export const STATE_TAG: Record<ReferralState, 'primary' | 'success' | 'danger' | 'default'> = {
  pending: 'primary',
  confirmed: 'success',
  invalid: 'danger',
  expired: 'default',
}

export const PHONE_POLICY_LABELS: Record<PhonePolicy, string> = {
  full: '完整号码',
  '3+4': '前三后四（如 138****5678）',
  '3+6': '前三后六',
  first9: '前九位',
  first7: '前七位',
}

export const MODE_LABELS: Record<string, string> = {
  report_protection: '报备保护（先报备有效者得）',
  competitive_visit: '竞争带看（先确认到访者得）',
  visit_wins: '到访为王（先带到访者得）',
}
