import { describe, expect, it, vi } from 'vitest'

import {
  ApiError, type TokenHolder, type TokenPair, buildUrl, createHttp, filenameFrom,
} from '../http'

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } })
}

function problem(status: number, code: string, detail: string): Response {
  return json(status, { type: `https://anchang.dev/problems/${code}`, title: detail, status, code, detail },
    'application/problem+json')
}

function setup(handler: Handler, initial: TokenPair | null = { accessToken: 'a1' }) {
  let tokens = initial
  const holder: TokenHolder = { get: () => tokens, set: (t) => { tokens = t } }
  const calls: {
    url: string; auth: string | null; body: string | null; background: string | null
    credentials: RequestCredentials | undefined
  }[] = []
  const notify = vi.fn<(message: string) => void>()
  const onAuthLost = vi.fn<(error: ApiError) => void>()
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const headers = new Headers(init?.headers)
    calls.push({
      url, auth: headers.get('Authorization'), body: (init?.body as string | undefined) ?? null,
      background: headers.get('X-Anchang-Background'), credentials: init?.credentials,
    })
    return handler(url, init ?? {})
  })
  const http = createHttp({ baseUrl: '/api/v1', tokens: holder, notify, onAuthLost, fetch })
  return { http, calls, notify, onAuthLost, tokens: () => tokens }
}

describe('request layer', () => {
  it('sends the bearer token and returns the JSON body', async () => {
    const { http, calls } = setup(() => json(200, { ok: true }))
    await expect(http.get<{ ok: boolean }>('/auth/me')).resolves.toEqual({ ok: true })
    expect(calls.map((c) => [c.url, c.auth, c.body, c.background]))
      .toEqual([['/api/v1/auth/me', 'Bearer a1', null, null]])
  })

  it('refuses an answer with a zoneless time in development (it would be read as local)', async () => {
    const { http } = setup(() => json(200, { items: [{ occurred_at: '2026-11-27T15:59:30' }] }))
    await expect(http.get('/visits')).rejects.toThrow('/visits answered a time without a zone at $.items[0].occurred_at')
    const zoned = setup(() => json(200, { at: '2026-11-27T15:59:30Z', day: '2026-11-27', note: '2026-11-27T09:00 见面' }))
    await expect(zoned.http.get('/visits')).resolves.toMatchObject({ at: '2026-11-27T15:59:30Z' })
  })

  it('leaves empty query values out of the URL', () => {
    expect(buildUrl('/api/v1', '/visits', { site_id: 'sh', project_id: undefined, cursor: null, q: '', limit: 20 }))
      .toBe('/api/v1/visits?site_id=sh&limit=20')
  })

  it('shows the problem detail once and throws an ApiError with its code', async () => {
    const { http, notify } = setup(() => problem(409, 'username_taken', '用户名“lina”已存在'))
    const error = await http.post('/users', { username: 'lina' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 409, code: 'username_taken', detail: '用户名“lina”已存在', notified: true })
    expect(notify).toHaveBeenCalledExactlyOnceWith('用户名“lina”已存在')
  })

  it('lets a silent caller show the error itself', async () => {
    const { http, notify } = setup(() => problem(401, 'invalid_credentials', '用户名或密码错误'), null)
    const error = await http.post('/auth/login', {}, { anonymous: true, silent: true }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid_credentials', notified: false })
    expect(notify).not.toHaveBeenCalled()
  })

  it('refreshes once on an expired access token, then retries with the new one', async () => {
    const { http, calls, tokens } = setup((url, init) => {
      if (url.endsWith('/auth/refresh')) return json(200, { access_token: 'a2' })
      const auth = new Headers(init.headers).get('Authorization')
      return auth === 'Bearer a2' ? json(200, { id: 1 }) : problem(401, 'unauthorized', '登录已失效，请重新登录')
    })
    await expect(http.get('/auth/me')).resolves.toEqual({ id: 1 })
    expect(calls.map((c) => [c.url, c.auth])).toEqual([
      ['/api/v1/auth/me', 'Bearer a1'],
      ['/api/v1/auth/refresh', null],
      ['/api/v1/auth/me', 'Bearer a2'],
    ])
    // The refresh token is the HttpOnly cookie the browser sends itself: no body, and
    // script never sees a refresh token.
    expect(calls[1]?.body).toBeNull()
    expect(calls[1]?.credentials).toBe('same-origin')
    expect(tokens()).toEqual({ accessToken: 'a2' })
  })

  it('marks polls as background, their refresh too, so they do not keep an idle session alive', async () => {
    const { http, calls } = setup((url, init) => {
      if (url.endsWith('/auth/refresh')) return json(200, { access_token: 'a2' })
      const auth = new Headers(init.headers).get('Authorization')
      return auth === 'Bearer a2' ? json(200, []) : problem(401, 'unauthorized', '登录已失效')
    })
    await http.get('/sync/sites', undefined, { background: true })
    expect(calls.map((c) => [c.url, c.background])).toEqual([
      ['/api/v1/sync/sites', '1'],
      ['/api/v1/auth/refresh', '1'],
      ['/api/v1/sync/sites', '1'],
    ])
    await http.get('/users')
    expect(calls.at(-1)?.background).toBeNull()
  })

  it('shares one refresh between requests that expire together', async () => {
    let refreshes = 0
    const { http } = setup(async (url, init) => {
      if (url.endsWith('/auth/refresh')) {
        refreshes += 1
        await new Promise((resolve) => setTimeout(resolve, 5))
        return json(200, { access_token: 'a2' })
      }
      const auth = new Headers(init.headers).get('Authorization')
      return auth === 'Bearer a2' ? json(200, { url }) : problem(401, 'unauthorized', '登录已失效')
    })
    const results = await Promise.all([http.get('/a'), http.get('/b'), http.get('/c')])
    expect(results).toEqual([{ url: '/api/v1/a' }, { url: '/api/v1/b' }, { url: '/api/v1/c' }])
    expect(refreshes).toBe(1)
  })

  it('goes back to login once when the refresh is refused', async () => {
    const { http, onAuthLost, notify, tokens } = setup((url) =>
      url.endsWith('/auth/refresh')
        ? problem(401, 'session_expired', '超过 30 分钟未操作，登录已超时，请重新登录')
        : problem(401, 'unauthorized', '登录已失效'))
    const errors = await Promise.all([http.get('/a').catch((e: unknown) => e), http.get('/b').catch((e: unknown) => e)])
    expect(errors.every((e) => e instanceof ApiError && e.notified)).toBe(true)
    expect(onAuthLost).toHaveBeenCalledOnce()
    expect(onAuthLost.mock.calls[0]?.[0].detail).toBe('超过 30 分钟未操作，登录已超时，请重新登录')
    expect(notify).not.toHaveBeenCalled()
    expect(tokens()).toBeNull()
  })

  it('does not refresh for a disabled account: the session is over', async () => {
    const { http, calls, onAuthLost } = setup(() => problem(401, 'account_disabled', '账号已停用，请联系系统管理员'))
    await expect(http.get('/users')).rejects.toBeInstanceOf(ApiError)
    expect(calls).toHaveLength(1)
    expect(onAuthLost).toHaveBeenCalledOnce()
  })

  it('does not refresh on 403: the page shows the missing permission', async () => {
    const { http, calls, notify } = setup(() => problem(403, 'forbidden', '没有权限执行此操作'))
    await expect(http.get('/users')).rejects.toMatchObject({ status: 403, code: 'forbidden' })
    expect(calls).toHaveLength(1)
    expect(notify).toHaveBeenCalledExactlyOnceWith('没有权限执行此操作')
  })

  it('turns a non-problem error (a proxy page) and a dead network into Chinese messages', async () => {
    const html = setup(() => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }))
    await expect(html.http.get('/x')).rejects.toMatchObject({ status: 502, detail: '请求失败（HTTP 502），请稍后重试' })
    const down = setup(() => { throw new TypeError('Failed to fetch') })
    await expect(down.http.get('/x')).rejects.toMatchObject({ status: 0, code: 'network_error' })
    expect(down.notify).toHaveBeenCalledExactlyOnceWith('无法连接服务器，请检查网络后重试')
  })

  it('downloads a file under the name the server gives', async () => {
    const { http } = setup(() => new Response('\ufeff编号\n', {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': "attachment; filename=\"audit-log.csv\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.csv",
      },
    }))
    const file = await http.download('/audit/logs/export', { action: 'auth.' })
    expect(file.filename).toBe('审计日志.csv')
    expect(await file.blob.text()).toContain('编号')
  })

  it('reads plain and encoded file names', () => {
    expect(filenameFrom('attachment; filename="a.csv"', 'x')).toBe('a.csv')
    expect(filenameFrom(null, 'x')).toBe('x')
  })
})

describe('conditional reads and uploads', () => {
  it('answers unchanged on a 304 and the new body with its ETag otherwise', async () => {
    const seen: (string | null)[] = []
    const { http, notify } = setup((_url, init) => {
      const tag = new Headers(init.headers).get('If-None-Match')
      seen.push(tag)
      if (tag === 'W/"v2"') return new Response(null, { status: 304, headers: { etag: 'W/"v2"' } })
      return new Response(JSON.stringify({ version: 2 }),
        { status: 200, headers: { 'content-type': 'application/json', etag: 'W/"v2"' } })
    })
    await expect(http.revalidate('/grid', null)).resolves.toEqual(
      { changed: true, etag: 'W/"v2"', body: { version: 2 } })
    await expect(http.revalidate('/grid', 'W/"v2"')).resolves.toEqual({ changed: false })
    expect(seen).toEqual([null, 'W/"v2"'])
    expect(notify).not.toHaveBeenCalled()
  })

  it('sends a file as multipart without a JSON content type', async () => {
    let sent: RequestInit | undefined
    const { http } = setup((_url, init) => {
      sent = init
      return json(201, { units_created: 1 })
    })
    await http.upload('/import', new Blob(['x']), '房源.xlsx')
    expect(sent?.body).toBeInstanceOf(FormData)
    expect(new Headers(sent?.headers).get('Content-Type')).toBeNull()
    expect((sent?.body as FormData).get('file')).toBeInstanceOf(Blob)
  })
})
