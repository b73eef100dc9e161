// 我的客户's filters, applied on the phone to the list the appliance last answered: they
// work the same with the office's network down. A search by number or name needs the
// appliance (the number's blind index and the names are only there, and each search is
// audited); only the last four digits can be matched here, against the masked number.
import type { Gender, MyCustomer, Ownership, PaymentMethod, Stage, VisitSource } from '../api/types'

export interface CustomerFilters {
  stages: Stage[] // any of them; none chosen = all
  gender: Gender | ''
  source: VisitSource | ''
  visits: 'first' | 'returned' | ''
  ownership: Ownership | ''
  payment: PaymentMethod | ''
}

export function noFilters(): CustomerFilters {
  return { stages: [], gender: '', source: '', visits: '', ownership: '', payment: '' }
}

export function activeCount(f: CustomerFilters): number {
  return (f.stages.length ? 1 : 0) + [f.gender, f.source, f.visits, f.ownership, f.payment].filter(Boolean).length
}

export function matches(c: MyCustomer, f: CustomerFilters): boolean {
  return (
    (!f.stages.length || f.stages.includes(c.status)) &&
    (!f.gender || c.profile.gender === f.gender) &&
    (!f.source || c.source === f.source) &&
    (!f.visits || (c.visit_count > 1) === (f.visits === 'returned')) &&
    (!f.ownership || c.ownership === f.ownership) &&
    (!f.payment || c.payment_method === f.payment)
  )
}

export function applyFilters(list: MyCustomer[], f: CustomerFilters): MyCustomer[] {
  return list.filter((c) => matches(c, f))
}

/** 复访率: the share of these customers who came back at least once, in whole percent. */
export function returnRatio(list: MyCustomer[]): number | null {
  if (!list.length) return null
  return Math.round((list.filter((c) => c.visit_count > 1).length * 100) / list.length)
}

export type SearchKind = 'phone' | 'tail' | 'name' | 'invalid'

/** What the appliance will take the text for (mirrors edge_agent/customers/search.py). */
export function searchKind(text: string): SearchKind {
  const t = text.trim()
  if (!t || t.length > 40) return 'invalid'
  if (/^[0-9]{4}$/.test(t)) return 'tail'
  if (/^[0-9+()\s.-]+$/.test(t)) {
    const digits = t.replace(/[^0-9]/g, '').replace(/^(0086|86)(?=1\d{10}$)/, '')
    return /^1[3-9]\d{9}$/.test(digits) ? 'phone' : 'invalid'
  }
  return 'name'
}

/** The offline stand-in for a search: the last four digits against the masked numbers. */
export function searchOffline(list: MyCustomer[], text: string): MyCustomer[] | null {
  const t = text.trim()
  return searchKind(t) === 'tail' ? list.filter((c) => c.phone_masked.endsWith(t)) : null
}

/** Query parameters of GET /staff/customers for a search with these filters. */
export function searchParams(text: string, f: CustomerFilters): URLSearchParams {
  const p = new URLSearchParams({ q: text.trim() })
  for (const s of f.stages) p.append('status', s)
  if (f.gender) p.set('gender', f.gender)
  if (f.source) p.set('source', f.source)
  if (f.visits) p.set('visits', f.visits)
  if (f.ownership) p.set('ownership', f.ownership)
  if (f.payment) p.set('payment_method', f.payment)
  return p
}
