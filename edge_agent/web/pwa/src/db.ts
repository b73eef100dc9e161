// The phone's own database (IndexedDB through Dexie). The queue is keyed by the
// follow-up's id, made here, which is also its Idempotency-Key on the edge and the cloud:
// an entry leaves the queue only after a 2xx, and sending it again is harmless.
import Dexie, { type EntityTable, type Table } from 'dexie'
import type { FollowUpBody, FollowUpKind, MyCustomer, Visit } from './api/types'

export interface QueuedFollowUp {
  id: string
  userId: number
  body: FollowUpBody
  customer: string // what the list shows: masked name and phone
  createdAt: number
  attempts: number
  lastError?: string
  failed?: boolean // refused for good (e.g. invalid): needs the consultant
}

export interface SentFollowUp {
  id: string
  userId: number
  customer: string
  kind: FollowUpKind
  via: 'edge' | 'cloud'
  sentAt: number
}

export interface CachedVisit extends Visit {
  userId: number
}

export interface CachedCustomer extends MyCustomer {
  userId: number
}

class PwaDatabase extends Dexie {
  queue!: EntityTable<QueuedFollowUp, 'id'>
  sent!: EntityTable<SentFollowUp, 'id'>
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
  }
}

export const db = new PwaDatabase()

export const SENT_KEPT = 20 // recent successes shown under 待同步
