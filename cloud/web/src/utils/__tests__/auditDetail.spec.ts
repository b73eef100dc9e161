import { describe, expect, it } from 'vitest'

import { detailLines } from '../auditDetail'
import { AUDIT_ACTION_NAMES, actionName } from '../labels'

describe('detailLines', () => {
  it('names keys and codes in Chinese and formats flags and lists', () => {
    expect(detailLines({ reason: 'bad_password', failures: 3, locked: false })).toEqual([
      { key: 'reason', label: '原因', text: '密码错误' },
      { key: 'failures', label: '连续失败次数', text: '3' },
      { key: 'locked', label: '已锁定', text: '否' },
    ])
    expect(detailLines({ before: ['consultant'], after: [] })).toEqual([
      { key: 'before', label: '变更前', text: '置业顾问' },
      { key: 'after', label: '变更后', text: '（无）' },
    ])
  })

  it('nests objects, shows changes as old → new and keeps unknown keys', () => {
    const [filters, changes, odd] = detailLines({
      filters: { phone: '138****5678', first_visit: true },
      changes: { is_active: [true, false] },
      brand_new_key: 'x',
    })
    expect(filters).toEqual({
      key: 'filters', label: '筛选条件', children: [
        { key: 'phone', label: '手机号', text: '138****5678' },
        { key: 'first_visit', label: '仅首访', text: '是' },
      ],
    })
    expect(changes?.children).toEqual([{ key: 'is_active', label: '启用', text: '是 → 否' }])
    expect(odd).toEqual({ key: 'brand_new_key', label: 'brand_new_key', text: 'x' })
  })

  it('shows lists of objects item by item and times in Beijing time', () => {
    const [rejected, since] = detailLines({
      rejected: [{ seq: 7, reason: 'conflict' }],
      since: '2026-11-24T16:00:00Z',
    })
    expect(rejected?.children?.[0]).toEqual({
      key: '#1', label: '#1', children: [
        { key: 'seq', label: '序号', text: '7' },
        { key: 'reason', label: '原因', text: 'conflict' },
      ],
    })
    expect(since?.text).toBe('2026-11-25 00:00:00')
  })
})

describe('actionName', () => {
  it('names every action and falls back to the code', () => {
    expect(actionName('visit.export')).toBe('导出到访记录')
    expect(actionName('something.new')).toBe('something.new')
    expect(Object.values(AUDIT_ACTION_NAMES).every((name) => /[\u4e00-\u9fff]/.test(name))).toBe(true)
  })
})
