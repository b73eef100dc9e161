// One fetch wrapper for the edge and the cloud: JSON in and out, a timeout, and errors
// split into "no answer" (NetworkError: offline, timeout, blocked) and "an answer that
// says no" (ApiError carrying the server's RFC 9457 problem, with its Chinese detail).
import { assertZonedTimes } from '../../../../../shared/web/zonedTimes'

export interface Problem {
  status: number
  code: string
  detail: string
}

export class ApiError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(problem.detail)
    this.problem = problem
  }
  get status(): number {
    return this.problem.status
  }
  get code(): string {
    return this.problem.code
  }
}

export class NetworkError extends Error {}

/** Marks a request the app makes by itself (a timer's refresh): the appliance does not
 * count it as the consultant's activity, so an unattended phone still reaches the idle
 * timeout. */
export const BACKGROUND_HEADER = 'X-Anchang-Background'

export interface RequestOptions {
  method?: 'GET' | 'POST'
  body?: unknown
  token?: string
  headers?: Record<string, string>
  timeoutMs?: number
}

export async function request<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (options.token) headers.Authorization = `Bearer ${options.token}`
  let response: Response
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
      signal: AbortSignal.timeout(options.timeoutMs ?? 8000),
    })
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error))
  }
  if (!response.ok) throw new ApiError(await problemOf(response))
  const body: unknown = await response.json()
  if (import.meta.env.DEV) assertZonedTimes(body, url)
  return body as T
}

async function problemOf(response: Response): Promise<Problem> {
  let body: Partial<Problem> = {}
  try {
    body = (await response.json()) as Partial<Problem>
  } catch {
    // not JSON: a proxy's error page
  }
  return {
    status: response.status,
    code: typeof body.code === 'string' ? body.code : `http_${response.status}`,
    detail: typeof body.detail === 'string' ? body.detail : `服务器暂时无法处理（${response.status}）`,
  }
}

/** A conditional GET's answer: unchanged since the ETag sent, or the new body and ETag. */
export type Revalidated<T> = { changed: false } | { changed: true; etag: string | null; body: T }

/** GET `url` unless unchanged since `etag` (a bodiless 304): a cheap poll. */
export async function revalidate<T>(url: string, token: string, etag: string | null,
  timeoutMs = 8000): Promise<Revalidated<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}` }
  if (etag) headers['If-None-Match'] = etag
  let response: Response
  try {
    response = await fetch(url, { headers, cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error))
  }
  if (response.status === 304) return { changed: false }
  if (!response.ok) throw new ApiError(await problemOf(response))
  const body = (await response.json()) as T
  if (import.meta.env.DEV) assertZonedTimes(body, url)
  return { changed: true, etag: response.headers.get('etag'), body }
}

/** 5xx and no answer at all: the server may be fine later. */
export function unreachable(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && error.status >= 500)
}

export const CLOUD_EXPIRED_MESSAGE = '云端登录已过期，请退出后重新登录'

/** The Chinese sentence for a failed call of a page that works online only: the cloud's
 * own refusal as it wrote it, an expired login, or `offline` when there was no answer. */
export function cloudProblem(error: unknown, offline: string): string {
  if (error instanceof ApiError && error.status === 401) return CLOUD_EXPIRED_MESSAGE
  if (unreachable(error) || !(error instanceof ApiError)) return offline
  return error.message
}
