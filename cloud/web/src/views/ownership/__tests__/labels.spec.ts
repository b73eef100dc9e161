import { describe, expect, it } from 'vitest'

import type { OwnershipRow } from '@/api/ownership'

import { canInvalidate, deadlineState } from '../labels'

function row(over: Partial<OwnershipRow>): OwnershipRow {
  return {
    customer_id: 1, project_id: 1, site_id: 's', name_masked: null, phone_masked: '138****0000',
    stage: 'visited', ownership: 'owned', owner_id: 2, owner_name: '顾问', previous_owner_id: null,
    previous_owner_name: null, owned_since: null, protection_until: '2026-02-01T00:00:00Z',
    last_effective_at: null, lapse_at: '2026-01-09T16:00:00Z', lapse_reason: 'follow_up_overdue',
    warn_from: '2026-01-07T16:00:00Z', lapsed_at: null, visit_count: 1,
    last_visit_at: '2026-01-01T17:00:00Z', open_collisions: 0, ...over,
  }
}

describe('ownership deadline tag', () => {
  it('is past at the lapse instant, a warning from warn_from, plain before', () => {
    const r = row({})
    expect(deadlineState(r, Date.parse('2026-01-07T15:59:59Z'))).toBe('ok')
    expect(deadlineState(r, Date.parse('2026-01-07T16:00:00Z'))).toBe('warn')
    expect(deadlineState(r, Date.parse('2026-01-09T16:00:00Z'))).toBe('past')
  })

  it('has none for customers that do not lapse', () => {
    expect(deadlineState(row({ lapse_at: null, warn_from: null }))).toBe('none')
  })

  it('offers no second invalid mark', () => {
    expect(canInvalidate(row({ ownership: 'invalid' }))).toBe(false)
    expect(canInvalidate(row({ ownership: 'public' }))).toBe(true)
  })
})
