import { describe, expect, it } from 'vitest'

import { actionTone, actorLabel, positionChange, ROTA_ACTION_NAMES } from '../rota'

describe('rota history labels', () => {
  it('names every action in Chinese and colours penalties as danger', () => {
    expect(Object.values(ROTA_ACTION_NAMES).every((n) => /[\u4e00-\u9fa5]/.test(n))).toBe(true)
    expect(actionTone('suspended')).toBe('danger')
    expect(actionTone('back')).toBe('success')
    expect(actionTone('away')).toBe('warning')
    expect(actionTone('turn_consumed')).toBe('primary')
  })

  it('says who made the change', () => {
    const names = new Map([[11, '孙经理']])
    expect(actorLabel('kiosk:visit', names)).toBe('来访登记')
    expect(actorLabel('kiosk:10.0.0.5', names)).toBe('前台平板（10.0.0.5）')
    expect(actorLabel('user:11', names)).toBe('孙经理')
    expect(actorLabel('user:12', names)).toBe('用户 #12')
  })

  it('describes the move in the queue', () => {
    expect(positionChange({ position_before: 1, position_after: 3 })).toBe('第 1 位 → 第 3 位')
    expect(positionChange({ position_before: null, position_after: 2 })).toBe('→ 第 2 位')
    expect(positionChange({ position_before: 2, position_after: null })).toBe('第 2 位 → 离开队列')
    expect(positionChange({ position_before: null, position_after: null })).toBe('')
  })
})
