import { describe, expect, it } from 'vitest'

import type { ReceptionRules } from '@/api/reception'

import {
  changedVia, DAY_END, DAY_START, defaultHint, fieldErrors, HOURS_ERROR, hoursError, toForm, toRules,
} from '../settingsForm'

const DEFAULTS: ReceptionRules = {
  order_mode: 'check_in',
  return_consumes_turn: false,
  drop_effects: { leave: 'off', rest: 'tail', private: 'tail' },
  work_start: DAY_START,
  work_end: DAY_END,
  stand_in_share_percent: 50,
  claim_days: 2,
  refusal_suspend_days: 7,
  skip_turns_penalty: 1,
}

describe('reception settings form', () => {
  it('keeps the whole day exactly as the server states it', () => {
    const form = toForm(DEFAULTS)
    expect(form.whole_day).toBe(true)
    expect(toRules(form)).toEqual(DEFAULTS)
  })

  it('turns office hours into Beijing times and back', () => {
    const form = toForm({ ...DEFAULTS, work_start: '08:30:00', work_end: '17:45:00' })
    expect([form.whole_day, form.work_start, form.work_end]).toEqual([false, '08:30', '17:45'])
    form.work_end = '20:00'
    expect(toRules(form)).toMatchObject({ work_start: '08:30:00', work_end: '20:00:00' })
  })

  it('refuses hours that end before they start, but not the whole day', () => {
    const form = toForm(DEFAULTS)
    form.whole_day = false
    expect(hoursError(form)).toBeNull()
    form.work_end = '09:00'
    expect(hoursError(form)).toBe(HOURS_ERROR)
    form.whole_day = true
    expect(hoursError(form)).toBeNull()
  })

  it('shows the rules page defaults in Chinese', () => {
    expect(defaultHint('claim_days', DEFAULTS)).toBe('默认：2 天')
    expect(defaultHint('stand_in_share_percent', DEFAULTS)).toBe('默认：50 %')
    expect(defaultHint('order_mode', DEFAULTS)).toBe('默认：按上岗顺序轮流')
    expect(defaultHint('work_start', DEFAULTS)).toBe('默认：全天计入')
    expect(defaultHint('drop_effects', DEFAULTS)).toBe('默认：请假退出当天队列，休息排到队尾，私事排到队尾')
  })

  it('maps the server field errors to the form in Chinese', () => {
    expect(fieldErrors([
      { field: 'claim_days', type: 'less_than_equal', msg: 'Input should be less than or equal to 30' },
      { field: 'drop_effects.rest', type: 'literal_error', msg: 'x' },
      { field: '', type: 'value_error', msg: 'Value error, work_end must be after work_start' },
    ])).toEqual({
      claim_days: '“来过但忘了顾问”认领期应在 0–30 天之间',
      drop_effects: '离开原因的处理的取值不合法',
      work_end: HOURS_ERROR,
    })
    expect(fieldErrors(undefined)).toEqual({})
  })

  it('says where the last change came from', () => {
    expect(changedVia('console')).toBe('总部控制台')
    expect(changedVia('site:site-a')).toBe('案场设备')
    expect(changedVia(null)).toBe('')
  })
})
