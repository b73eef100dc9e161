// Times are shown in Asia/Shanghai whatever the phone's zone; stored and sent as UTC ISO.
const ZONE = 'Asia/Shanghai'
const time = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE,
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const dayTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE,
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const parts = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
})

export const timeOf = (at: string | number) => time.format(new Date(at))
export const dayTimeOf = (at: string | number) => dayTime.format(new Date(at))

/** YYYY-MM-DD of the Shanghai day `days` after the day of `from`. */
export function shanghaiDay(from: Date, days = 0): [string, string, string] {
  const [y, m, d] = parts.format(new Date(from.getTime() + days * 86_400_000)).split('-')
  return [y, m, d]
}

/** An aware ISO string for a Shanghai wall-clock time. */
export function shanghaiIso(day: [string, string, string], hour: string, minute: string): string {
  return `${day[0]}-${day[1]}-${day[2]}T${hour}:${minute}:00+08:00`
}

/** The 11-digit mainland mobile number in `raw` (spaces, dashes, a +86 / 0086 prefix
 * allowed, as the server's shared/phone.py takes it), or null. */
export function mobileOf(raw: string): string | null {
  const digits = raw.replace(/\D/g, '').replace(/^(00)?86(?=1\d{10}$)/, '')
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null
}

/** 138****5678, as every list shows a number. */
export const maskedPhone = (mobile: string) => `${mobile.slice(0, 3)}****${mobile.slice(-4)}`

/** A random UUID v4: a queued record's id and Idempotency-Key. */
export function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const monthDay = new Intl.DateTimeFormat('zh-CN', { timeZone: ZONE, month: 'numeric', day: 'numeric' })

/** "11月27日" for an instant, in Beijing. */
export const dateOf = (at: string | number) => monthDay.format(new Date(at))

/** A Beijing calendar day as the server sends it ("2026-11-29") → "11月29日". */
export function dayLabel(day: string): string {
  const [, m, d] = day.split('-')
  return `${Number(m)}月${Number(d)}日`
}

/** "今天" / "3 天前", by Beijing calendar days. */
export function daysAgo(at: string, now: Date = new Date()): string {
  const [y1, m1, d1] = shanghaiDay(new Date(at))
  const [y2, m2, d2] = shanghaiDay(now)
  const days = Math.round((Date.UTC(+y2, +m2 - 1, +d2) - Date.UTC(+y1, +m1 - 1, +d1)) / 86_400_000)
  return days <= 0 ? '今天' : days === 1 ? '昨天' : `${days} 天前`
}

/** Where a customer stands on the 7-day rule, in words. */
export function dueLabel(state: string | null, dueDay: string | null): string {
  if (!dueDay) return '尚无有效跟进'
  return state === 'overdue' ? `应于 ${dayLabel(dueDay)} 前跟进` : `最迟 ${dayLabel(dueDay)} 跟进`
}
