// Every date-time the APIs answer with is UTC with its zone ("…Z"). A zoneless one would
// be read by the browser as local time and shift by the viewer's offset, so in
// development an answer carrying one is an error, named with where it was found.
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/

export class ZonelessTime extends Error {}

/** The JSON paths of date-time strings without a zone, e.g. ["$.items[0].occurred_at"]. */
export function zonelessTimes(body: unknown, path = '$'): string[] {
  if (typeof body === 'string') {
    return ZONELESS.test(body) ? [path] : []
  }
  if (Array.isArray(body)) return body.flatMap((item, i) => zonelessTimes(item, `${path}[${i}]`))
  if (body !== null && typeof body === 'object') {
    return Object.entries(body).flatMap(([key, value]) => zonelessTimes(value, `${path}.${key}`))
  }
  return []
}

/** Throws ZonelessTime when `body` carries a zoneless date-time (call it in development). */
export function assertZonedTimes(body: unknown, url: string): void {
  const found = zonelessTimes(body)
  if (found.length) {
    throw new ZonelessTime(`${url} answered a time without a zone at ${found.join(', ')}`)
  }
}
