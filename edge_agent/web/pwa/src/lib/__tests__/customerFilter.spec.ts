import { describe, expect, it } from 'vitest'

import type { MyCustomer } from '../../api/types'
import {
  activeCount,
  applyFilters,
  noFilters,
  returnRatio,
  searchKind,
  searchOffline,
  searchParams,
} from '../customerFilter'
import { rangeLabel } from '../labels'

function customer(over: Partial<MyCustomer>): MyCustomer {
  return {
    key: `1:${'0'.repeat(64)}`, project_id: 1, phone_masked: '139****0001', name_masked: '陈**',
    visit_count: 1, last_visit_at: null, last_effective_at: null, due_day: null, follow_state: null,
    protection_until: null, customer_ref: null, provisional: false, first_visit_at: null,
    return_visits: 0, status: 'visited', ownership: 'owned', payment_method: null, source: 'natural',
    profile: { gender: null, awareness: null, layout: null, area_min: null, area_max: null,
      budget_min: null, budget_max: null, purpose: null, grade: null },
    phone_region: null,
    ...over,
  }
}

const pledged = customer({ phone_masked: '139****0011', status: 'pledged', visit_count: 3,
  source: 'referral_old_customer', profile: { ...customer({}).profile, gender: 'male' } })
const signed = customer({ phone_masked: '139****0012', status: 'signed', payment_method: 'commercial_loan' })
const lapsed = customer({ phone_masked: '139****0013', ownership: 'overdue',
  profile: { ...customer({}).profile, gender: 'female' } })
const all = [pledged, signed, lapsed]

describe('my customers’ filters', () => {
  it('passes everything with none set', () => {
    expect(applyFilters(all, noFilters())).toEqual(all)
    expect(activeCount(noFilters())).toBe(0)
  })

  it('takes any of the chosen stages', () => {
    expect(applyFilters(all, { ...noFilters(), stages: ['pledged', 'signed'] })).toEqual([pledged, signed])
    expect(applyFilters(all, { ...noFilters(), stages: ['refunded'] })).toEqual([])
  })

  it('needs every set criterion to hold', () => {
    const f = { ...noFilters(), gender: 'male' as const, source: 'referral_old_customer' as const }
    expect(applyFilters(all, f)).toEqual([pledged])
    expect(applyFilters(all, { ...f, visits: 'first' })).toEqual([])
    expect(activeCount({ ...f, stages: ['signed', 'void'] })).toBe(3)
  })

  it('tells first visits from returns, ownership and payment', () => {
    expect(applyFilters(all, { ...noFilters(), visits: 'returned' })).toEqual([pledged])
    expect(applyFilters(all, { ...noFilters(), visits: 'first' })).toEqual([signed, lapsed])
    expect(applyFilters(all, { ...noFilters(), ownership: 'overdue' })).toEqual([lapsed])
    expect(applyFilters(all, { ...noFilters(), payment: 'commercial_loan' })).toEqual([signed])
  })

  it('gives the return ratio in whole percent, none for an empty list', () => {
    expect(returnRatio(all)).toBe(33)
    expect(returnRatio([])).toBeNull()
  })
})

describe('the search box', () => {
  it('reads the text as the appliance will', () => {
    expect(searchKind('13900000012')).toBe('phone')
    expect(searchKind('139 0000 0012')).toBe('phone')
    expect(searchKind('+86 139-0000-0012')).toBe('phone')
    expect(searchKind('0012')).toBe('tail')
    expect(searchKind('小雨')).toBe('name')
    for (const bad of ['', '   ', '12345', '23900000012', 'x'.repeat(41)]) expect(searchKind(bad)).toBe('invalid')
  })

  it('matches only the last four digits offline', () => {
    expect(searchOffline(all, ' 0013 ')).toEqual([lapsed])
    expect(searchOffline(all, '13900000013')).toBeNull()
    expect(searchOffline(all, '陈')).toBeNull()
  })

  it('sends the filters with the search', () => {
    const p = searchParams(' 0011 ', { ...noFilters(), stages: ['pledged', 'signed'], payment: 'full' })
    expect(p.get('q')).toBe('0011')
    expect(p.getAll('status')).toEqual(['pledged', 'signed'])
    expect(p.get('payment_method')).toBe('full')
    expect(p.has('gender')).toBe(false)
  })
})

describe('ranges', () => {
  it('names one end, both, or nothing', () => {
    expect(rangeLabel(300, 400, '万')).toBe('300–400 万')
    expect(rangeLabel(90, null, '㎡')).toBe('≥ 90 ㎡')
    expect(rangeLabel(null, 120, '㎡')).toBe('≤ 120 ㎡')
    expect(rangeLabel(null, null, '㎡')).toBeNull()
  })
})
