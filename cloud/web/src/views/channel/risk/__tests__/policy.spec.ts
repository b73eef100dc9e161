import { describe, expect, it } from 'vitest'

import type { RiskCheck, RiskPolicy } from '@/api/channelCasework'

import { changesOf, defaultsOf, formOf, groupsOf, isDefault, problems, settingOf } from '../policy'

function check(over: Partial<RiskCheck>): RiskCheck {
  return {
    code: 'late_referral', title: '临近到访报备', stage: 'visit', status: 'active', batched: false,
    action: 'review', params: {}, default_action: 'review', actions: ['off', 'flag', 'review'],
    param_specs: [], faces: false, ...over,
  }
}

// Part of the policy as GET …/risk-policy returns it for a project never changed.
const POLICY: RiskPolicy = {
  project_id: 1,
  appeal_deadline_days: 7,
  checks: [
    check({ code: 'searched_before_referral', title: '报备前已查询', stage: 'referral',
      params: { lookback_days: 30 }, actions: ['off', 'flag', 'review', 'block'],
      param_specs: [{ name: 'lookback_days', label: '回看天数', default: 30, min: 1, max: 365 }] }),
    check({ code: 'face_before_referral', title: '报备前已被摄像头识别', faces: true,
      params: { lookback_days: 90 },
      param_specs: [{ name: 'lookback_days', label: '回看天数', default: 90, min: 1, max: 365 }] }),
    check({ code: 'face_unregistered', title: '摄像头到访人数多于前台登记', faces: true,
      params: { tolerance: 2 },
      param_specs: [{ name: 'tolerance', label: '容差（人）', default: 2, min: 0, max: 100 }] }),
  ],
}

const [SEARCHED, FACE, UNREGISTERED] = POLICY.checks as [RiskCheck, RiskCheck, RiskCheck]

describe('the risk policy form', () => {
  it('puts the face checks in their own group', () => {
    const { faces, others } = groupsOf(POLICY)
    expect(faces.map((c) => c.code)).toEqual(['face_before_referral', 'face_unregistered'])
    expect(others.map((c) => c.code)).toEqual(['searched_before_referral'])
  })

  it('sends nothing when nothing changed, and only the checks that did', () => {
    const form = formOf(POLICY)
    expect(changesOf(POLICY, form)).toBeNull()
    form.checks.face_unregistered = { action: 'flag', params: { tolerance: 5 } }
    expect(changesOf(POLICY, form)).toEqual({ checks: { face_unregistered: { action: 'flag', params: { tolerance: 5 } } } })
    form.appeal_deadline_days = 14
    expect(changesOf(POLICY, form)?.appeal_deadline_days).toBe(14)
  })

  it('does not share the parameters it was read from', () => {
    const form = formOf(POLICY)
    settingOf(form, FACE).params.lookback_days = 10
    expect(FACE.params.lookback_days).toBe(90)
  })

  it('knows the defaults', () => {
    const face = FACE
    expect(defaultsOf(face)).toEqual({ action: 'review', params: { lookback_days: 90 } })
    expect(isDefault(face, { action: 'review', params: { lookback_days: 90 } })).toBe(true)
    expect(isDefault(face, { action: 'off', params: { lookback_days: 90 } })).toBe(false)
  })

  it('refuses what the server would: a face check that blocks, a parameter out of range', () => {
    const form = formOf(POLICY)
    expect(problems(POLICY, form)).toEqual([])
    form.checks.face_before_referral = { action: 'block', params: { lookback_days: 0 } }
    settingOf(form, UNREGISTERED).params.tolerance = 2.5
    form.appeal_deadline_days = 0
    expect(problems(POLICY, form)).toEqual([
      '申诉期限应为 1–90 天',
      '报备前已被摄像头识别：不能设为「拦截报备」',
      '报备前已被摄像头识别：回看天数应为 1–365 的整数',
      '摄像头到访人数多于前台登记：容差（人）应为 0–100 的整数',
    ])
    settingOf(form, SEARCHED).action = 'block'
    expect(problems(POLICY, form)).not.toContain('报备前已查询：不能设为「拦截报备」')
  })
})
