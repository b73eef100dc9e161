/**
 * The one HTTP client of the console: JSON over fetch under /api/v1, the bearer token on
 * every call, one refresh on an expired access token (the refresh token is an HttpOnly
 * cookie only the server's refresh route sees: script never holds it, ADR 0019), and
 * RFC 9457 problem+json errors turned into ApiError with the server's Chinese `detail`,
 * shown once to the user unless the caller shows it itself (`silent`).
 *
 * Pure: tokens, notification and "log in again" are injected, so unit tests drive it
 * with a fake fetch (src/api/__tests__/http.spec.ts).
 */
import { assertZonedTimes } from '../../../../shared/web/zonedTimes'

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue>

export interface Problem {
  status: number
  code: string
  detail: string
  type?: string
  title?: string
  instance?: string
  [extra: string]: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly problem: Problem
  /** True once the user has been told (a message, or the trip back to the login page). */
  notified = false

  constructor(problem: Problem) {
    super(`${problem.code}: ${problem.detail}`)
    this.name = 'ApiError'
    this.status = problem.status
    this.code = problem.code
    this.detail = problem.detail
    this.problem = problem
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError
}

export interface TokenPair {
  accessToken: string
}

/** Marks a request the app makes by itself (polling): it must not keep an idle session
 * alive, so the server does not count it as the user's activity. */
export const BACKGROUND_HEADER = 'X-Anchang-Background'

export interface TokenHolder {
  get(): TokenPair | null
  set(tokens: TokenPair | null): void
}

export interface HttpOptions {
  baseUrl: string
  tokens: TokenHolder
  /** Shows one error message (ElMessage in the app). */
  notify: (message: string) => void
  /** The session is over (refresh refused, account disabled): back to the login page. */
  onAuthLost: (error: ApiError) => void
  fetch?: typeof fetch
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RequestOptions {
  method?: Method
  query?: Query
  body?: unknown
  /** The caller shows the error itself (e.g. the login form); no message is shown here. */
  silent?: boolean
  /** No bearer token and no refresh: login and refresh themselves. */
  anonymous?: boolean
  /** Made by the app on its own (a poll), not by a user action: see BACKGROUND_HEADER. */
  background?: boolean
  signal?: AbortSignal
  /** Asks for the body only if it changed since this ETag (a 304 answers "unchanged"). */
  ifNoneMatch?: string
}

/** A conditional GET's answer: unchanged, or the new body and its ETag. */
export type Revalidated<T> = { changed: false } | { changed: true; etag: string | null; body: T }

export interface Download {
  blob: Blob
  filename: string
  headers: Headers
}

export interface Http {
  request<T>(path: string, options?: RequestOptions): Promise<T>
  get<T>(path: string, query?: Query, options?: RequestOptions): Promise<T>
  post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  patch<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  download(path: string, query?: Query, options?: RequestOptions): Promise<Download>
  /** A multipart upload of one file (field `file`). */
  upload<T>(path: string, file: Blob, filename: string, options?: RequestOptions): Promise<T>
  /** GET unless unchanged since `etag` (polling a resource that carries an ETag). */
  revalidate<T>(path: string, etag: string | null, options?: RequestOptions): Promise<Revalidated<T>>
}

interface TokenResponse {
  access_token: string
}

const NETWORK_DETAIL = '无法连接服务器，请检查网络后重试'

export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue
    params.append(key, String(value))
  }
  const search = params.toString()
  return baseUrl + path + (search ? `?${search}` : '')
}

/** Turns any failed response into a Problem, problem+json or not (e.g. a proxy's 502). */
export async function readProblem(response: Response): Promise<Problem> {
  const fallback: Problem = {
    status: response.status,
    code: `http_${response.status}`,
    detail: `请求失败（HTTP ${response.status}），请稍后重试`,
  }
  const type = response.headers.get('content-type') ?? ''
  if (!type.includes('json')) return fallback
  let body: unknown
  try {
    body = await response.json()
  } catch {
    return fallback
  }
  if (typeof body !== 'object' || body === null) return fallback
  const record = body as Record<string, unknown>
  return {
    ...record,
    status: response.status,
    code: typeof record.code === 'string' ? record.code : fallback.code,
    detail: typeof record.detail === 'string' && record.detail ? record.detail : fallback.detail,
  }
}

/** `attachment; filename*=UTF-8''%E5%AE%A1…` (preferred) or `filename="…"`. */
export function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition)
  return plain?.[1]?.trim() || fallback
}

export function createHttp(options: HttpOptions): Http {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  let refreshing: Promise<void> | null = null

  function fail(problem: Problem, silent: boolean | undefined): never {
    const error = new ApiError(problem)
    if (!silent) {
      options.notify(error.detail)
      error.notified = true
    }
    throw error
  }

  /** Ends the session once: the first request to find it gone sends the user to log in. */
  function authLost(problem: Problem): ApiError {
    const error = new ApiError(problem)
    const hadSession = options.tokens.get() !== null
    options.tokens.set(null)
    if (hadSession) options.onAuthLost(error)
    error.notified = true
    return error
  }

  async function send(path: string, init: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    if (init.background) headers[BACKGROUND_HEADER] = '1'
    if (init.ifNoneMatch) headers['If-None-Match'] = init.ifNoneMatch
    let body: string | FormData | undefined
    if (init.body instanceof FormData) {
      body = init.body // the browser writes the multipart Content-Type with its boundary
    } else if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(init.body)
    }
    try {
      return await doFetch(buildUrl(options.baseUrl, path, init.query), {
        method: init.method ?? 'GET',
        headers,
        body,
        signal: init.signal,
        credentials: 'same-origin', // the refresh cookie, on the refresh route only
      })
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error
      return fail({ status: 0, code: 'network_error', detail: NETWORK_DETAIL }, init.silent)
    }
  }

  /**
   * One refresh for every request that found its access token expired at the same time.
   * Resolves once new tokens are stored; rejects with an ApiError the user has been told
   * about (network down, or the session is over and the login page is on its way).
   */
  function refreshTokens(background: boolean): Promise<void> {
    refreshing ??= (async () => {
      const response = await send('/auth/refresh', { method: 'POST', background }, null)
      if (!response.ok) throw authLost(await readProblem(response))
      const issued = (await response.json()) as TokenResponse
      options.tokens.set({ accessToken: issued.access_token })
    })().finally(() => {
      refreshing = null
    })
    return refreshing
  }

  async function execute(path: string, init: RequestOptions): Promise<Response> {
    const used = init.anonymous ? null : (options.tokens.get()?.accessToken ?? null)
    if (!init.anonymous && used === null) {
      throw authLost({ status: 401, code: 'unauthorized', detail: '请先登录' })
    }
    let response = await send(path, init, used)
    if (response.status === 401 && !init.anonymous) {
      const problem = await readProblem(response)
      // Only an expired or unknown access token is worth a refresh; a disabled account
      // or an ended session is final.
      if (problem.code !== 'unauthorized') throw authLost(problem)
      const latest = options.tokens.get()
      if (latest === null) throw authLost(problem)
      // Another request may have rotated the tokens while this one was in flight.
      if (latest.accessToken === used) await refreshTokens(init.background === true)
      response = await send(path, init, options.tokens.get()?.accessToken ?? null)
      if (response.status === 401) throw authLost(await readProblem(response))
    }
    const unchanged = response.status === 304 && init.ifNoneMatch !== undefined
    if (!response.ok && !unchanged) fail(await readProblem(response), init.silent)
    return response
  }

  async function request<T>(path: string, init: RequestOptions = {}): Promise<T> {
    const response = await execute(path, init)
    if (response.status === 204) return undefined as T
    const type = response.headers.get('content-type') ?? ''
    if (!type.includes('json')) return undefined as T
    const body: unknown = await response.json()
    if (import.meta.env.DEV) assertZonedTimes(body, path)
    return body as T
  }

  return {
    request,
    get: <T>(path: string, query?: Query, init?: RequestOptions) =>
      request<T>(path, { ...init, method: 'GET', query }),
    post: <T>(path: string, body?: unknown, init?: RequestOptions) =>
      request<T>(path, { ...init, method: 'POST', body }),
    put: <T>(path: string, body?: unknown, init?: RequestOptions) =>
      request<T>(path, { ...init, method: 'PUT', body }),
    patch: <T>(path: string, body?: unknown, init?: RequestOptions) =>
      request<T>(path, { ...init, method: 'PATCH', body }),
    async download(path: string, query?: Query, init?: RequestOptions): Promise<Download> {
      const response = await execute(path, { method: 'GET', ...init, query })
      const blob = await response.blob()
      const name = filenameFrom(response.headers.get('content-disposition'), 'download')
      return { blob, filename: name, headers: response.headers }
    },
    upload: <T>(path: string, file: Blob, filename: string, init?: RequestOptions) => {
      const form = new FormData()
      form.append('file', file, filename)
      return request<T>(path, { ...init, method: 'POST', body: form })
    },
    async revalidate<T>(path: string, etag: string | null, init?: RequestOptions): Promise<Revalidated<T>> {
      const response = await execute(path, { ...init, method: 'GET', ifNoneMatch: etag ?? undefined })
      if (response.status === 304) return { changed: false }
      const body = (await response.json()) as T
      if (import.meta.env.DEV) assertZonedTimes(body, path)
      return { changed: true, etag: response.headers.get('etag'), body }
    },
  }
}
