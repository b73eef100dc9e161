// A sales manager's reception on the phone: what the board says about each consultant,
// and what HQ changed in the settings.
import type { HqChange, PenaltyKind, RotaConsultant } from '../api/types'
import { dayTimeOf } from '../format'

export const PENALTY_LABELS: Record<PenaltyKind, string> = {
  refusal: '拒接（暂停接待）',
  skipped_question: '漏问（失去下一轮）',
  cherry_picking: '挑客（失去下一轮）',
}

const AWAY_LABELS: Record<string, string> = {
  receiving: '接待客户中',
  washroom: '洗手间',
  lunch: '午餐',
  business: '外出办事',
  manager_approved: '经理批准离开',
  rest: '休息',
  private: '私事',
  leave: '请假',
}
// 补接: away for these, the consultant keeps the head of the queue.
const KEEPS_PLACE = new Set(['receiving', 'washroom', 'lunch', 'business', 'manager_approved'])

/** The consultant's state in a few words: 第 1 位 · 午餐（补接） · 处罚：失去 1 次轮次. */
export function dutyLabel(c: RotaConsultant, nextId: number | null): string {
  const parts: string[] = []
  if (c.suspended_until) parts.push(`暂停接待至 ${c.suspended_until}`)
  else if (!c.on_duty) parts.push('未上岗')
  else parts.push(c.id === nextId ? `第 ${c.position} 位 · 下一位接待` : `第 ${c.position} 位`)
  if (c.away_reason) {
    const label = AWAY_LABELS[c.away_reason] ?? c.away_reason
    parts.push(KEEPS_PLACE.has(c.away_reason) ? `${label}（补接）` : label)
  }
  if (c.skip_turns > 0) parts.push(`处罚：失去 ${c.skip_turns} 次轮次`)
  return parts.join(' · ')
}

/** 总部（周总）于 11/28 14:05 修改了接待设置：…, so the manager knows theirs were replaced. */
export function hqChangeText(change: HqChange): string {
  const who = change.changed_by_name ? `总部（${change.changed_by_name}）` : '总部'
  const what = change.fields.length ? `：${change.fields.join('、')}` : ''
  return `${who}于 ${dayTimeOf(change.changed_at)} 修改了接待设置${what}。本机的设置已按总部的更新。`
}
