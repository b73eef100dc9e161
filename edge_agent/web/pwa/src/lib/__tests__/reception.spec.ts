import { describe, expect, it } from 'vitest'

import type { RotaConsultant } from '../../api/types'
import { dutyLabel, hqChangeText } from '../reception'

function consultant(over: Partial<RotaConsultant>): RotaConsultant {
  return { id: 7, name: '王顾问', on_duty: true, position: 1, received_today: 0,
    return_visits_today: 0, away_reason: null, skip_turns: 0, suspended_until: null, ...over }
}

describe('a consultant on the manager’s board', () => {
  it('names the next to receive', () => {
    expect(dutyLabel(consultant({}), 7)).toBe('第 1 位 · 下一位接待')
    expect(dutyLabel(consultant({ position: 2 }), 8)).toBe('第 2 位')
  })

  it('tells a make-up absence (补接) from one that loses the place', () => {
    expect(dutyLabel(consultant({ away_reason: 'lunch' }), 8)).toBe('第 1 位 · 午餐（补接）')
    expect(dutyLabel(consultant({ away_reason: 'rest', position: 3 }), 8)).toBe('第 3 位 · 休息')
  })

  it('shows penalties and suspensions before anything else', () => {
    expect(dutyLabel(consultant({ skip_turns: 1 }), 8)).toBe('第 1 位 · 处罚：失去 1 次轮次')
    expect(dutyLabel(consultant({ on_duty: false, position: null, suspended_until: '2026-12-03' }), null))
      .toBe('暂停接待至 2026-12-03')
    expect(dutyLabel(consultant({ on_duty: false, position: null }), null)).toBe('未上岗')
  })
})

describe('settings HQ changed', () => {
  it('says who, when in Beijing time, and what', () => {
    const change = { changed_at: '2026-11-28T06:05:00Z', changed_by_name: '周总', fields: ['接待顺序', '拒接客户停岗'] }
    expect(hqChangeText(change)).toBe(
      '总部（周总）于 11/28 14:05 修改了接待设置：接待顺序、拒接客户停岗。本机的设置已按总部的更新。',
    )
  })

  it('leaves out a name the office does not know', () => {
    expect(hqChangeText({ changed_at: '2026-11-27T16:30:00Z', changed_by_name: null, fields: ['上班时间'] })).toBe(
      '总部于 11/28 00:30 修改了接待设置：上班时间。本机的设置已按总部的更新。',
    )
  })
})
