import { describe, expect, it } from 'vitest'

import { LEAD_KIND_NAMES, LEAD_KIND_TYPES, kindCounts } from '../leadKinds'

describe('lead timeline kinds', () => {
  it('names every kind the API answers, in Chinese', () => {
    const kinds = ['share_open', 'page_view', 'lead_created', 'profile_change', 'referral', 'visit', 'follow_up']
    expect(Object.keys(LEAD_KIND_NAMES).sort()).toEqual([...kinds].sort())
    expect(Object.keys(LEAD_KIND_TYPES).sort()).toEqual([...kinds].sort())
    for (const name of Object.values(LEAD_KIND_NAMES)) expect(name).toMatch(/^[\u4e00-\u9fff]+$/)
  })

  it('counts the kinds in the order they first appear', () => {
    expect(kindCounts(['page_view', 'share_open', 'page_view', 'visit'])).toBe('浏览页面 2 · 打开分享 1 · 到访 1')
    expect(kindCounts([])).toBe('')
  })
})
