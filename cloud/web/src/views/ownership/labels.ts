import type { OwnershipRow } from '@/api/ownership'

/** The deadline's tag: past, within the warning days, or just the date. */
export function deadlineState(row: OwnershipRow, now: number = Date.now()): 'none' | 'past' | 'warn' | 'ok' {
  if (!row.lapse_at) return 'none'
  if (Date.parse(row.lapse_at) <= now) return 'past'
  if (row.warn_from && Date.parse(row.warn_from) <= now) return 'warn'
  return 'ok'
}

/** What a manager may do with a customer, by its ownership. */
export function canInvalidate(row: OwnershipRow): boolean {
  return row.ownership !== 'invalid'
}
