// Draining the offline queue. Each entry goes to the edge first (the office LAN). A
// follow-up goes to the cloud when the edge cannot be reached; a call (来电登记) waits for
// the edge, the only one that registers calls (ADR 0056). A queued entry is deleted only
// after a 2xx; anything else leaves it queued (retried later) or marks it failed (refused
// for good). Both servers store a record once by its id, so a retry — or the same
// follow-up reaching both — never makes two.
import { cloudApi } from '../api/cloud'
import { edgeApi } from '../api/edge'
import { ApiError, unreachable } from '../api/http'
import { db, type QueuedEntry, SENT_KEPT, whatOf } from '../db'

export interface FlushContext {
  userId: number
  edgeToken: string | null // null once expired
  // The cloud's access token only: it lasts 15 minutes, after which follow-ups wait for
  // the office's appliance (no long-lived cloud token is kept in script's reach).
  cloud: { base: string; access: string } | null
}

type Outcome =
  | { kind: 'sent'; via: 'edge' | 'cloud' }
  | { kind: 'retry'; message: string }
  | { kind: 'failed'; message: string }

export interface FlushReport {
  sent: number
  left: number
}

const EDGE_DOWN = '案场设备暂时连不上，恢复后自动同步'
const OFFLINE = '网络已断开，恢复后自动同步'
const LOGIN_EXPIRED = '登录已失效，请重新登录，之后自动同步'
const CLOUD_ONLY = '该客户只能同步到云端，连上网络后自动同步'

// Codes the cloud answers while the visit has not reached it from the office yet.
const NOT_SYNCED_YET = new Set(['visit_not_found', 'customer_not_found'])

/** Where an entry can go: the edge (unless only the cloud knows its customer) and the
 * cloud (unless only the edge takes it). */
interface Paths {
  edge?: (token: string) => Promise<unknown>
  cloud?: (base: string, token: string) => Promise<unknown>
}

function pathsOf(entry: QueuedEntry): Paths {
  if (entry.record === 'call') {
    const body = entry.body
    return { edge: (token) => edgeApi.recordCall(token, body) }
  }
  const body = entry.body
  return {
    // A customer this appliance never saw is named by the cloud's id: only the cloud knows it.
    edge: body.customer_id === undefined ? (token) => edgeApi.followUp(token, body) : undefined,
    cloud: (base, token) => cloudApi.followUp(base, token, body),
  }
}

/** One flush at a time across tabs (Web Locks) and in this tab. A flush asked for while
 * one runs (the network just came back, a new entry) runs once more right after it. */
let running: Promise<FlushReport> | null = null
let again: Promise<FlushReport> | null = null

export function flushQueue(ctx: FlushContext): Promise<FlushReport> {
  if (running) {
    const rerun = () => {
      again = null
      return flushQueue(ctx)
    }
    again ??= running.then(rerun, rerun)
    return again
  }
  const run = (): Promise<FlushReport> => drain(ctx)
  const locked =
    'locks' in navigator
      ? new Promise<FlushReport>((resolve, reject) => {
          // The lock is held until the callback's promise settles, i.e. the whole drain.
          void navigator.locks.request('anchang-queue-flush', () => run().then(resolve, reject))
        })
      : run()
  running = locked.finally(() => {
    running = null
  })
  return running
}

async function drain(ctx: FlushContext): Promise<FlushReport> {
  const items = (await db.queue.where('userId').equals(ctx.userId).sortBy('createdAt')).filter(
    (item) => !item.failed,
  )
  if (!navigator.onLine) {
    // No network at all: nothing to try; say so on every waiting entry.
    await db.queue.bulkUpdate(items.map((item) => ({ key: item.id, changes: { lastError: OFFLINE } })))
    return { sent: 0, left: await db.queue.where('userId').equals(ctx.userId).count() }
  }
  let sent = 0
  let edgeDown = false // once the edge did not answer, this flush goes straight to the cloud
  for (const item of items) {
    const outcome = await sendOne(ctx, item, edgeDown)
    if (outcome.kind === 'sent') {
      await db.transaction('rw', db.queue, db.sent, async () => {
        await db.queue.delete(item.id)
        await db.sent.put({
          id: item.id,
          userId: item.userId,
          customer: item.customer,
          record: item.record,
          what: whatOf(item),
          via: outcome.via,
          sentAt: Date.now(),
        })
      })
      sent += 1
      if (outcome.via === 'cloud') edgeDown = true
      continue
    }
    await db.queue.update(item.id, {
      attempts: item.attempts + 1,
      lastError: outcome.message,
      failed: outcome.kind === 'failed',
    })
    if (outcome.kind === 'retry') edgeDown = true
  }
  await pruneSent(ctx.userId)
  const left = await db.queue.where('userId').equals(ctx.userId).count()
  return { sent, left }
}

async function sendOne(ctx: FlushContext, item: QueuedEntry, skipEdge: boolean): Promise<Outcome> {
  const paths = pathsOf(item)
  let whyNotEdge = !ctx.edgeToken ? LOGIN_EXPIRED : navigator.onLine ? EDGE_DOWN : OFFLINE
  if (!paths.edge) whyNotEdge = CLOUD_ONLY
  if (!skipEdge && paths.edge && ctx.edgeToken) {
    try {
      await paths.edge(ctx.edgeToken)
      return { kind: 'sent', via: 'edge' }
    } catch (error) {
      const tokenRefused = error instanceof ApiError && [401, 403].includes(error.status)
      if (!unreachable(error) && !tokenRefused) return refusedFor(error)
      // Out of reach, or this login is no longer good at the edge: try the cloud.
      if (tokenRefused) whyNotEdge = LOGIN_EXPIRED
    }
  }
  return paths.cloud ? sendToCloud(ctx, paths.cloud, whyNotEdge) : { kind: 'retry', message: whyNotEdge }
}

async function sendToCloud(
  ctx: FlushContext,
  send: NonNullable<Paths['cloud']>,
  whyNotEdge: string,
): Promise<Outcome> {
  const cloud = ctx.cloud
  if (!cloud) return { kind: 'retry', message: whyNotEdge }
  try {
    await send(cloud.base, cloud.access)
    return { kind: 'sent', via: 'cloud' }
  } catch (error) {
    if (unreachable(error)) return { kind: 'retry', message: whyNotEdge }
    if (error instanceof ApiError && error.status === 401) {
      return { kind: 'retry', message: '云端登录已过期，连上案场 Wi-Fi 后自动同步' }
    }
    if (error instanceof ApiError && NOT_SYNCED_YET.has(error.code)) {
      return { kind: 'retry', message: '到访记录尚未同步到云端，稍后自动重试' }
    }
    return refusedFor(error)
  }
}

function refusedFor(error: unknown): Outcome {
  if (error instanceof ApiError) return { kind: 'failed', message: error.message }
  return { kind: 'retry', message: String(error) }
}

async function pruneSent(userId: number): Promise<void> {
  const recent = await db.sent.where('userId').equals(userId).sortBy('sentAt')
  const stale = recent.slice(0, Math.max(0, recent.length - SENT_KEPT)).map((s) => s.id)
  if (stale.length) await db.sent.bulkDelete(stale)
}
