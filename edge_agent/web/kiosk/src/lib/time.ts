// Times are stored in UTC and shown in Asia/Shanghai, whatever the tablet's zone is.
const ZONE = 'Asia/Shanghai'

const timeFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, hour: '2-digit', minute: '2-digit', hour12: false,
})
const dateFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
})
const clockFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, month: 'long', day: 'numeric', weekday: 'short',
  hour: '2-digit', minute: '2-digit', hour12: false,
})

export const hhmm = (iso: string | null | undefined): string =>
  iso ? timeFormat.format(new Date(iso)) : '—'

export const ymd = (iso: string | null | undefined): string =>
  iso ? dateFormat.format(new Date(iso)).replace(/\//g, '-') : '—'

export const clock = (now: Date): string => clockFormat.format(now)

/** "3 分钟前" style, for the last cloud acknowledgement. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '尚无'
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000))
  if (seconds < 60) return '刚刚'
  if (seconds < 3600) return `${Math.floor(seconds / 60)} 分钟前`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} 小时前`
  return `${Math.floor(seconds / 86400)} 天前`
}
