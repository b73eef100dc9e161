// The one HTTP client of the app: bearer token, timeouts, problem+json → ApiError.
// Views never call it directly; they go through the typed modules next to it.
import { assertZonedTimes } from '../../../../../shared/web/zonedTimes'
import type { Problem } from './types'

const API_BASE = '/api/v1'
const TIMEOUT_MS = 8000

/** The agent answered with an error (a Chinese `detail` the user can read). */
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

/** The agent did not answer at all (LAN down, agent stopped, timeout). */
export class EdgeUnreachableError extends Error {
  constructor() {
    super('无法连接案场服务器，请检查平板网络后重试')
    this.name = 'EdgeUnreachableError'
  }
}

export interface HttpHooks {
  token: () => string | null
  /** The agent refused the kiosk token. */
  onUnauthorized: (error: ApiError) => void
  /** Every request tells whether the agent answered. */
  onReachability: (reachable: boolean) => void
}

let hooks: HttpHooks = {
  token: () => null,
  onUnauthorized: () => undefined,
  onReachability: () => undefined,
}

export function configureHttp(value: HttpHooks): void {
  hooks = value
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Use this token instead of the stored one (device setup checks a new token; the
   * field engineer's camera pages send theirs). */
  token?: string
  /** Longer than the default for calls that wait on the LAN (a camera scan). */
  timeoutMs?: number
}

export async function request<T>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) params.set(key, String(value))
  }
  const qs = params.toString()
  const url = `${API_BASE}${path}${qs ? `?${qs}` : ''}`
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  const token = options.token ?? hooks.token()
  if (token) headers.Authorization = `Bearer ${token}`
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'

  const timeout = new AbortController()
  const timer = window.setTimeout(() => timeout.abort(), options.timeoutMs ?? TIMEOUT_MS)
  const onAbort = () => timeout.abort()
  options.signal?.addEventListener('abort', onAbort)
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: timeout.signal,
      cache: 'no-store',
    })
  } catch (error) {
    if (options.signal?.aborted) throw error
    hooks.onReachability(false)
    throw new EdgeUnreachableError()
  } finally {
    window.clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
  }

  const text = await response.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  // A proxy or a half-started agent answers without our JSON: treat as unreachable.
  if (response.status >= 502 && (data === null || typeof data !== 'object')) {
    hooks.onReachability(false)
    throw new EdgeUnreachableError()
  }
  hooks.onReachability(true)
  if (!response.ok) {
    const problem = (data && typeof data === 'object' ? data : {}) as Problem
    const error = new ApiError(response.status, problem)
    // (a token being tried out on the setup screen is not the device's token yet)
    if (response.status === 401 && options.token === undefined) hooks.onUnauthorized(error)
    throw error
  }
  if (import.meta.env.DEV) assertZonedTimes(data, url)
  return data as T
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError || error instanceof EdgeUnreachableError) return error.message
  return '操作失败，请稍后重试'
}
