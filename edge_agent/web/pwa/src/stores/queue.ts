// The records waiting on this phone (待同步: follow-ups and calls) and the recently
// synced ones, live from Dexie, and the flush triggers: at start, when the appliance
// answers again (the reach store probes it with a back-off capped at 5 s), after each new
// entry, when the app comes back to the foreground, and every 30 s while something waits
// (the cloud path).
import { liveQuery, type Subscription } from 'dexie'
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { db, type QueuedEntry, type QueuedRecord, type SentEntry } from '../db'
import { flushQueue, type FlushReport } from '../sync/flush'
import { useReach } from './reach'
import { useSession } from './session'

const RETRY_EVERY_MS = 30_000

export const useQueue = defineStore('queue', () => {
  const session = useSession()
  const items = ref<QueuedEntry[]>([])
  const sent = ref<SentEntry[]>([])
  const flushing = ref(false)
  const pending = computed(() => items.value.length)

  let subscriptions: Subscription[] = []
  watch(
    () => session.user?.id,
    (userId) => {
      subscriptions.forEach((s) => s.unsubscribe())
      subscriptions = []
      items.value = []
      sent.value = []
      if (userId === undefined) return
      subscriptions = [
        liveQuery(() => db.queue.where('userId').equals(userId).sortBy('createdAt')).subscribe(
          (rows) => (items.value = rows),
        ),
        liveQuery(() => db.sent.where('userId').equals(userId).reverse().sortBy('sentAt')).subscribe(
          (rows) => (sent.value = rows),
        ),
      ]
    },
    { immediate: true },
  )

  async function flush(): Promise<FlushReport | null> {
    const s = session.data
    if (!s) return null
    flushing.value = true
    try {
      return await flushQueue({
        userId: s.user.id,
        edgeToken: session.edgeTokenValid ? s.edge_token : null,
        cloud: s.cloud_url ? { base: s.cloud_url, access: s.cloud_access_token } : null,
      })
    } finally {
      flushing.value = false
    }
  }

  /** Keep the record on the phone first, then try to send it. */
  async function enqueue(entry: QueuedRecord, customer: string): Promise<void> {
    const user = session.user
    if (!user) throw new Error('not signed in')
    await db.queue.put({ ...entry, id: entry.body.id, userId: user.id, customer, createdAt: Date.now(), attempts: 0 })
    void flush()
  }

  async function retry(id: string): Promise<void> {
    await db.queue.update(id, { failed: false, lastError: undefined })
    await flush()
  }

  async function discard(id: string): Promise<void> {
    await db.queue.delete(id)
  }

  let started = false
  function start(): void {
    if (started) return
    started = true
    const reach = useReach()
    reach.onComeback(() => {
      if (pending.value > 0) void flush()
    })
    reach.start()
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void flush()
    })
    window.setInterval(() => {
      if (pending.value > 0 && navigator.onLine && !flushing.value) void flush()
    }, RETRY_EVERY_MS)
    void flush()
  }

  return { items, sent, pending, flushing, flush, enqueue, retry, discard, start }
})
