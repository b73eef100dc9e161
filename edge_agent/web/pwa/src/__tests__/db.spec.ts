// The phone's database opened by this version over one an older version left (IndexedDB
// in memory): what waited in its queue were follow-ups, and they still wait as such.
import 'fake-indexeddb/auto'
import Dexie from 'dexie'
import { expect, it } from 'vitest'

it('keeps the follow-ups an older version queued, named as follow-ups', async () => {
  const older = new Dexie('anchang-consultant')
  older.version(3).stores({
    queue: 'id, userId, createdAt',
    sent: 'id, userId, sentAt',
    visits: 'id, userId',
    customers: '[userId+key], userId',
  })
  await older.table('queue').put({ id: 'f-1', userId: 7, body: { id: 'f-1', kind: 'wechat' }, customer: '', createdAt: 1, attempts: 0 })
  await older.table('sent').put({ id: 'f-0', userId: 7, customer: '', kind: 'visit', via: 'edge', sentAt: 1 })
  older.close()

  const { db, whatOf } = await import('../db')
  const [waiting] = await db.queue.toArray()
  expect(waiting).toMatchObject({ id: 'f-1', record: 'follow_up' })
  expect(whatOf(waiting)).toBe('微信')
  expect(await db.sent.get('f-0')).toEqual({
    id: 'f-0',
    userId: 7,
    customer: '',
    record: 'follow_up',
    what: '到访',
    via: 'edge',
    sentAt: 1,
  })
})
