import { describe, expect, it } from 'vitest'

import type { RotaConsultantOut } from '../../api/types'
import {
  awayLabel,
  dutyStatus,
  emptyProfileForm,
  keepsPlace,
  profileOf,
} from '../reception'

function consultant(extra: Partial<RotaConsultantOut>): RotaConsultantOut {
  return {
    id: 7, name: '王顾问', on_duty: true, position: 1, checked_in_at: null,
    checked_out_at: null, received_today: 0, return_visits_today: 0, counted_today: 0,
    away_reason: null, away_since: null, skip_turns: 0, suspended_until: null, ...extra,
  }
}

describe('away reasons', () => {
  it('keeps the place for make-up reasons only', () => {
    expect(['receiving', 'washroom', 'lunch', 'business', 'manager_approved']
      .every((r) => keepsPlace(r as never))).toBe(true)
    expect(['leave', 'rest', 'private'].some((r) => keepsPlace(r as never))).toBe(false)
    expect(awayLabel('lunch')).toBe('午餐')
    expect(awayLabel(null)).toBe('')
  })

  it('says on the board why a consultant is passed', () => {
    expect(dutyStatus(consultant({}))).toEqual([])
    expect(dutyStatus(consultant({ away_reason: 'washroom' }))).toEqual(['洗手间（补接）'])
    expect(dutyStatus(consultant({ away_reason: 'rest', skip_turns: 1 }))).toEqual([
      '休息', '处罚：失去 1 次轮次'])
    expect(dutyStatus(consultant({ suspended_until: '2026-11-30' }))).toEqual([
      '暂停接待至 2026-11-30'])
  })
})

describe('profileOf', () => {
  it('sends only what was filled, numbers as numbers', () => {
    expect(profileOf(emptyProfileForm())).toEqual({})
    const form = { ...emptyProfileForm(), gender: 'female' as const, grade: 'A' as const,
      layout: '  三室两厅 ', budgetMin: '200', budgetMax: '300', areaMax: '120' }
    expect(profileOf(form)).toEqual({ gender: 'female', grade: 'A', layout: '三室两厅',
      budget_min: 200, budget_max: 300, area_max: 120 })
  })

  it('refuses a reversed range and a number that is not whole', () => {
    expect(() => profileOf({ ...emptyProfileForm(), budgetMin: '500', budgetMax: '300' }))
      .toThrow('预算下限不能大于上限')
    expect(() => profileOf({ ...emptyProfileForm(), areaMin: '89.5' })).toThrow('面积')
    expect(() => profileOf({ ...emptyProfileForm(), areaMin: '-1' })).toThrow('面积')
  })
})
