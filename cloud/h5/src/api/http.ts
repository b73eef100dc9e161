// The one HTTP client of the H5: bearer token (renewed once through the refresh cookie on
// a 401), timeouts, problem+json → ApiError with the server's Chinese message.
import { assertZonedTimes } from '../../../../shared/web/zonedTimes'
import { session } from '../session'

const API_BASE = '/api/v1'
const TIMEOUT_MS = 10000

export interface Problem {
  code?: string
  title?: string
  detail?: string
  [extra: string]: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly problem: Problem

  constructor(status: number, problem: Problem) {
    super(problem.detail ?? problem.title ?? `请求失败（${status}）`)
    this.name = 'ApiError'
    this.status = status
    this.code = problem.code ?? 'http_error'
    this.problem = problem
  }
}

/** A route another part of the system has not shipped yet: the generic 404 (or 405 where
 * only another method exists), never a domain's own "not found" code. */
export function notYetOpen(error: unknown): boolean {
  return error instanceof ApiError &&
    ((error.status === 404 && error.code === 'not_found') || error.code === 'method_not_allowed')
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined | null>
  body?: unknown
  form?: FormData
  headers?: Record<string, string>
  /** No bearer token and no refresh attempt (the sign-in calls). */
  anonymous?: boolean
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const qs = params.toString()
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  const token = session.token.value
  if (token && !options.anonymous) headers.Authorization = `Bearer ${token}`
  let body: BodyInit | undefined
  if (options.form) body = options.form
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const timeout = new AbortController()
  const timer = window.setTimeout(() => timeout.abort(), TIMEOUT_MS)
  try {
    return await fetch(`${API_BASE}${path}${qs ? `?${qs}` : ''}`, {
      method, headers, body, signal: timeout.signal, cache: 'no-store', credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, { code: 'unreachable', detail: '网络不可用，请稍后重试' })
  } finally {
    window.clearTimeout(timer)
  }
}

let refreshing: Promise<boolean> | null = null

/** Renew the access token from the HttpOnly refresh cookie; false: signed out. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await send('POST', '/auth/refresh', { anonymous: true })
      if (!response.ok) return false
      const data = (await response.json()) as { access_token: string }
      session.signIn(data.access_token)
      return true
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let response = await send(method, path, options)
  if (response.status === 401 && !options.anonymous) {
    if (await refresh()) response = await send(method, path, options)
    if (response.status === 401) session.signOut()
  }
  const text = await response.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && typeof data === 'object' ? data : {}) as Problem)
  }
  if (import.meta.env.DEV) assertZonedTimes(data, path)
  return data as T
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message
  return '操作失败，请稍后重试'
}

// A UUID v4 for the Idempotency-Key header (crypto.randomUUID needs HTTPS; this does not).
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** A binary answer (the invite poster), fetched with the bearer token, as an object URL. */
export async function requestObjectUrl(path: string): Promise<string> {
  let response = await send('GET', path, { headers: { Accept: 'image/*' } })
  if (response.status === 401 && (await refresh())) {
    response = await send('GET', path, { headers: { Accept: 'image/*' } })
  }
  if (!response.ok) {
    let problem: Problem = {}
    try {
      problem = (await response.json()) as Problem
    } catch {
      problem = {}
    }
    throw new ApiError(response.status, problem)
  }
  return URL.createObjectURL(await response.blob())
}
