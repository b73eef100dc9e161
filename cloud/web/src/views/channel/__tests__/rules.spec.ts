import { describe, expect, it } from 'vitest'

import { durationSeconds, durationText, formOf, parametersOf, problems, valueText } from '../rules'

// The defaults as GET …/rules returns them (pydantic's ISO 8601 durations).
const DEFAULTS = {
  attribution_mode: 'report_protection', confirmation: 'instant', developer_approval: false,
  lead_time: 'PT30M', referral_protection: { kind: 'duration', length: 'P3D' }, visit_protection: 'P30D',
  protection_stages: 'two', deal_milestone: 'subscription', follow_up_lapse: 'P7D', recycle: true,
  consultant_protection: 'P30D', warnings: { referral: 'P1D', visit: 'P1D', follow_up: 'P1D' },
  phone_policy: 'full', completion_stage: 'visit', name_policy: 'full', old_owner_policy: 'other_projects',
  re_referral: true, live_referral_cap: null, team_overrides: {},
}

describe('durations', () => {
  it('reads the ISO 8601 forms the server writes', () => {
    expect(durationSeconds('PT30M')).toBe(1800)
    expect(durationSeconds('P3D')).toBe(259200)
    expect(durationSeconds('P1DT2H')).toBe(93600)
    expect(durationSeconds('PT2700S')).toBe(2700)
    expect(durationSeconds('soon')).toBeNaN()
    expect(durationSeconds('P')).toBeNaN()
    expect(durationText('P1DT2H')).toBe('1 天 2 小时')
  })
})

describe('the rules form', () => {
  it('shows the defaults in the units a manager thinks in and sends them back equal', () => {
    const form = formOf(DEFAULTS)
    expect([form.lead_time_minutes, form.referral_hours, form.visit_protection_days, form.warn_referral_hours])
      .toEqual([30, 72, 30, 24])
    const sent = parametersOf(form)
    expect(durationSeconds(sent.lead_time as string)).toBe(1800)
    expect(sent.referral_protection).toEqual({ kind: 'duration', length: 'PT259200S' })
    expect(sent.follow_up_lapse).toBe('PT604800S')
    expect(sent.live_referral_cap).toBeNull()
    expect(problems(form)).toEqual([])
  })

  it('repeats the server checks: warnings shorter than windows, valid JSON', () => {
    const form = { ...formOf(DEFAULTS), referral_hours: 24 }
    expect(problems(form)).toEqual(['报备保护期的提醒时间必须短于保护期'])
    expect(problems({ ...formOf(DEFAULTS), follow_up_lapse_on: false, warn_follow_up_hours: 999 })).toEqual([])
    expect(problems({ ...formOf(DEFAULTS), team_overrides: '{oops' })).toEqual(['渠道团队差异规则不是合法的 JSON'])
  })

  it('sends a clock window and no lapse', () => {
    const form = { ...formOf(DEFAULTS), referral_kind: 'clock' as const, referral_until: '23:30', referral_days: 1,
      follow_up_lapse_on: false }
    const sent = parametersOf(form)
    expect(sent.referral_protection).toEqual({ kind: 'clock', until: '23:30:00', days: 1 })
    expect(sent.follow_up_lapse).toBeNull()
    expect(valueText('referral_protection', sent.referral_protection)).toBe('定点：报备 1 天后 23:30 止')
    expect(valueText('follow_up_lapse', null)).toBe('不限制')
  })
})
