// The offline queue drained against a fake appliance and a fake cloud (fetch answers as
// they would), on a real IndexedDB implementation: a call (来电登记) waits on the phone
// while the appliance is away — never to the cloud, which registers no calls — and then
// goes once, its id the Idempotency-Key; a follow-up of the same queue takes the cloud.
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { CallBody, FollowUpBody } from '../../api/types'
import { db, type QueuedEntry } from '../../db'
import { flushQueue, type FlushContext } from '../flush'

const CLOUD = 'https://cloud.example.cn'
const CTX: FlushContext = { userId: 7, edgeToken: 'edge', cloud: { base: CLOUD, access: 'cloud' } }

interface Sent {
  url: string
  key: string | null
  body: Record<string, unknown>
}

let sent: Sent[] = []
let edgeAnswers: () => Response

function problem(status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ status, code, detail }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

beforeEach(async () => {
  sent = []
  edgeAnswers = () => {
    throw new TypeError('Failed to fetch') // the appliance out of reach
  }
  vi.stubGlobal('navigator', { onLine: true })
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>
    sent.push({ url, key: headers['Idempotency-Key'] ?? null, body: JSON.parse(String(init.body)) })
    if (url.startsWith(CLOUD)) return new Response(JSON.stringify({ id: 'stored' }), { status: 201 })
    return edgeAnswers()
  })
  await db.queue.clear()
  await db.sent.clear()
})

afterEach(() => vi.unstubAllGlobals())

function call(id: string): QueuedEntry {
  const body: CallBody = {
    id,
    phone: '13900139002',
    name: null,
    awareness: 'online',
    project_id: 1,
    occurred_at: '2026-11-29T01:00:00.000Z',
  }
  return { record: 'call', body, id, userId: 7, customer: '139****9002', createdAt: 1, attempts: 0 }
}

function followUp(id: string): QueuedEntry {
  const body: FollowUpBody = {
    id,
    phone: '13800138000',
    project_id: 1,
    kind: 'call',
    reached: true,
    note: '客户周末再来',
    occurred_at: '2026-11-29T01:05:00.000Z',
  }
  return { record: 'follow_up', body, id, userId: 7, customer: '138****8000', createdAt: 2, attempts: 0 }
}

describe('the queue drains calls and follow-ups', () => {
  it('keeps a call on the phone while the appliance is away, then sends it once', async () => {
    await db.queue.bulkPut([call('c-1'), followUp('f-1')])

    expect(await flushQueue(CTX)).toEqual({ sent: 1, left: 1 })
    const waiting = await db.queue.get('c-1')
    expect(waiting).toMatchObject({ attempts: 1, lastError: '案场设备暂时连不上，恢复后自动同步' })
    expect(waiting?.failed).toBeFalsy()
    expect(sent.filter((s) => s.url.startsWith(CLOUD)).map((s) => s.url)).toEqual([`${CLOUD}/api/v1/follow-ups`])
    expect((await db.sent.get('f-1'))?.via).toBe('cloud')

    edgeAnswers = () => new Response(JSON.stringify({ id: 'c-1', occurred_at: '2026-11-29T01:00:00Z' }), { status: 201 })
    sent = []
    expect(await flushQueue(CTX)).toEqual({ sent: 1, left: 0 })
    expect(sent).toEqual([
      {
        url: '/api/v1/staff/calls',
        key: 'c-1',
        body: expect.objectContaining({ id: 'c-1', occurred_at: '2026-11-29T01:00:00.000Z' }),
      },
    ])
    expect(await db.sent.get('c-1')).toMatchObject({ record: 'call', what: '来电登记', via: 'edge' })
    expect(await flushQueue(CTX)).toEqual({ sent: 0, left: 0 }) // nothing sent twice
    expect(sent).toHaveLength(1)
  })

  it('marks a call the appliance refuses as failed, kept for the consultant', async () => {
    edgeAnswers = () => problem(422, 'not_call_answerer', '来电只登记给接听的置业顾问或销售经理；销售总监不登记来电')
    await db.queue.put(call('c-2'))
    expect(await flushQueue(CTX)).toEqual({ sent: 0, left: 1 })
    expect(await db.queue.get('c-2')).toMatchObject({
      failed: true,
      lastError: '来电只登记给接听的置业顾问或销售经理；销售总监不登记来电',
    })
    expect(await flushQueue(CTX)).toEqual({ sent: 0, left: 1 }) // not retried by itself
    expect(sent).toHaveLength(1)
  })

  it('says why a call waits when the login has expired at the appliance', async () => {
    edgeAnswers = () => problem(401, 'staff_token_invalid', '登录已失效，请重新登录')
    await db.queue.put(call('c-3'))
    expect(await flushQueue(CTX)).toEqual({ sent: 0, left: 1 })
    expect(await db.queue.get('c-3')).toMatchObject({ lastError: '登录已失效，请重新登录，之后自动同步' })
    expect(sent.map((s) => s.url)).toEqual(['/api/v1/staff/calls'])
  })
})
