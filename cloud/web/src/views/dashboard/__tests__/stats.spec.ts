import { describe, expect, it } from 'vitest'

import { lastDays, shanghaiWallClockToIso, todayInShanghai } from '@/utils/time'

import { visitsPerDay } from '../stats'

describe('dashboard statistics', () => {
  it('counts first and return visits per day, with empty days', () => {
    const days = ['2026-11-23', '2026-11-24', '2026-11-25']
    const visits = [
      { visit_date: '2026-11-23', is_first_visit: true },
      { visit_date: '2026-11-25', is_first_visit: true },
      { visit_date: '2026-11-25', is_first_visit: false },
      { visit_date: '2026-11-20', is_first_visit: true }, // outside the range
    ]
    expect(visitsPerDay(visits, days)).toEqual([
      { date: '2026-11-23', first: 1, returning: 0 },
      { date: '2026-11-24', first: 0, returning: 0 },
      { date: '2026-11-25', first: 1, returning: 1 },
    ])
  })

  it('counts days in Beijing time, whatever the computer’s zone', () => {
    // 2026-11-24 17:30 UTC is already 2026-11-25 01:30 in Beijing.
    const now = new Date('2026-11-24T17:30:00Z')
    expect(todayInShanghai(now)).toBe('2026-11-25')
    expect(lastDays(3, now)).toEqual(['2026-11-23', '2026-11-24', '2026-11-25'])
    expect(shanghaiWallClockToIso('2026-11-25 08:00:00')).toBe('2026-11-25T08:00:00+08:00')
  })
})
