/**
 * An audit row's `detail` as lines a person reads: Chinese names for the keys and codes
 * we know, 是/否 for flags, lists joined, nested objects indented, "old → new" for the
 * changes of a user edit. Unknown keys keep their code, so nothing is ever hidden.
 */
import { AUDIT_DETAIL_NAMES, AUDIT_VALUE_NAMES, ROLE_NAMES } from './labels'
import { formatDateTime } from './time'

export interface DetailLine {
  key: string
  label: string
  /** The value as text; absent when the value is shown as `children`. */
  text?: string
  children?: DetailLine[]
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/

function scalar(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? '是' : '否'
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') {
    if (ISO_TIME.test(value)) return formatDateTime(value)
    // Role codes appear under roles, before and after (a role change).
    return ROLE_NAMES[value] ?? AUDIT_VALUE_NAMES[value] ?? value
  }
  return JSON.stringify(value)
}

function isPlain(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)
}

function line(key: string, value: unknown, parent: string): DetailLine {
  const label = AUDIT_DETAIL_NAMES[key] ?? key
  if (Array.isArray(value)) {
    if (parent === 'changes' && value.length === 2 && value.every(isPlain)) {
      return { key, label, text: `${scalar(value[0])} → ${scalar(value[1])}` }
    }
    if (value.every(isPlain)) {
      return { key, label, text: value.length ? value.map((v) => scalar(v)).join('、') : '（无）' }
    }
    return { key, label, children: value.map((item, i) => line(`#${i + 1}`, item, key)) }
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (!entries.length) return { key, label, text: '（无）' }
    return { key, label, children: entries.map(([k, v]) => line(k, v, key)) }
  }
  return { key, label, text: scalar(value) }
}

export function detailLines(detail: Record<string, unknown>): DetailLine[] {
  return Object.entries(detail).map(([key, value]) => line(key, value, ''))
}
