/**
 * Times arrive in UTC and are always shown in Beijing time, whatever the zone of the
 * computer the console runs on (DESIGN.md: store UTC, show Asia/Shanghai).
 */
import dayjs, { type Dayjs } from 'dayjs'
import 'dayjs/locale/zh-cn'
import relativeTime from 'dayjs/plugin/relativeTime'
import timezone from 'dayjs/plugin/timezone'
import utc from 'dayjs/plugin/utc'

dayjs.extend(utc)
dayjs.extend(timezone)
dayjs.extend(relativeTime)
dayjs.locale('zh-cn')

export const TIME_ZONE = 'Asia/Shanghai'

export function inShanghai(value: string | Date | Dayjs): Dayjs {
  return dayjs(value).tz(TIME_ZONE)
}

export function formatDateTime(value: string | null | undefined, pattern = 'YYYY-MM-DD HH:mm:ss'): string {
  return value ? inShanghai(value).format(pattern) : '—'
}

/** "3 分钟前" */
export function fromNow(value: string | null | undefined): string {
  return value ? dayjs(value).fromNow() : '—'
}

/** Today's calendar date in Beijing, YYYY-MM-DD. */
export function todayInShanghai(now: Date = new Date()): string {
  return inShanghai(now).format('YYYY-MM-DD')
}

/** The last `count` Beijing calendar days ending today, oldest first (YYYY-MM-DD). */
export function lastDays(count: number, now: Date = new Date()): string[] {
  const today = inShanghai(now).startOf('day')
  return Array.from({ length: count }, (_, i) => today.subtract(count - 1 - i, 'day').format('YYYY-MM-DD'))
}

/** A date-time picked on the console (Beijing wall-clock) as ISO 8601 with its offset. */
export function shanghaiWallClockToIso(value: string): string {
  return dayjs.tz(value, TIME_ZONE).format()
}

export { dayjs }
