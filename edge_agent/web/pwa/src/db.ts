// The phone's own database (IndexedDB through Dexie). The queue keeps what the consultant
// recorded while the appliance may be out of reach — follow-ups and calls (来电登记) —
// each keyed by its id, made here, which is also its Idempotency-Key on the edge (and on
// the cloud, for a follow-up): an entry leaves the queue only after a 2xx, and sending it
// again is harmless.
import Dexie, { type EntityTable, type Table } from 'dexie'
import { type CallBody, type FollowUpBody, KIND_LABELS, type MyCustomer, type Visit } from './api/types'

/** What a queued entry records, with its body as the server takes it. */
export type QueuedRecord = { record: 'follow_up'; body: FollowUpBody } | { record: 'call'; body: CallBody }
export type RecordKind = QueuedRecord['record']

export type QueuedEntry = QueuedRecord & {
  id: string
  userId: number
  customer: string // what the list shows: masked name and phone
  createdAt: number
  attempts: number
  lastError?: string
  failed?: boolean // refused for good (e.g. invalid): needs the consultant
}

export interface SentEntry {
  id: string
  userId: number
  customer: string
  record: RecordKind
  what: string // what the list says it was (电话 / 到访 … for a follow-up, 来电登记)
  via: 'edge' | 'cloud'
  sentAt: number
}

/** What the lists say an entry is: a follow-up's way (电话, 到访 …), or 来电登记. */
export function whatOf(entry: QueuedRecord): string {
  return entry.record === 'call' ? '来电登记' : KIND_LABELS[entry.body.kind]
}

export interface CachedVisit extends Visit {
  userId: number
}

export interface CachedCustomer extends MyCustomer {
  userId: number
}

class PwaDatabase extends Dexie {
  queue!: EntityTable<QueuedEntry, 'id'>
  sent!: EntityTable<SentEntry, 'id'>
  visits!: EntityTable<CachedVisit, 'id'>
  customers!: Table<CachedCustomer, [number, string]>

  constructor() {
    super('anchang-consultant')
    this.version(1).stores({
      queue: 'id, userId, createdAt',
      sent: 'id, userId, sentAt',
      visits: 'id, userId',
    })
    // My customers, so the list opens offline too.
    this.version(2).stores({ customers: '[userId+key], userId' })
    // Customer 360's fields: a list kept by an older version lacks them, so it goes (the
    // next answer from the appliance fills it again).
    this.version(3)
      .stores({ customers: '[userId+key], userId' })
      .upgrade((tx) => tx.table('customers').clear())
    // Calls queue too: entries kept by an older version are follow-ups, and say so.
    this.version(4)
      .stores({ queue: 'id, userId, createdAt', sent: 'id, userId, sentAt' })
      .upgrade(async (tx) => {
        await tx
          .table('queue')
          .toCollection()
          .modify((row: { record?: RecordKind }) => {
            row.record ??= 'follow_up'
          })
        await tx
          .table('sent')
          .toCollection()
          .modify((row: { record?: RecordKind; what?: string; kind?: keyof typeof KIND_LABELS }) => {
            row.record ??= 'follow_up'
            row.what ??= row.kind ? KIND_LABELS[row.kind] : '跟进'
            delete row.kind
          })
      })
  }
}

export const db = new PwaDatabase()

export const SENT_KEPT = 20 // recent successes shown under 待同步
