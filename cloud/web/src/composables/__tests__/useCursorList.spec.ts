import { describe, expect, it, vi } from 'vitest'

import type { CursorPage } from '@/api/types'

import { useCursorList, useQueryList } from '../useCursorList'

/** A fake cursor API over 1..total: the cursor is the last number of the previous page. */
function numbers(total: number) {
  const calls: { cursor: string | null; limit: number }[] = []
  const fetchPage = vi.fn(async (cursor: string | null, limit: number): Promise<CursorPage<number>> => {
    calls.push({ cursor, limit })
    const start = cursor === null ? 1 : Number(cursor) + 1
    const items: number[] = []
    for (let n = start; n <= total && items.length < limit; n++) items.push(n)
    const last = items[items.length - 1]
    return { items, next_cursor: last !== undefined && last < total ? String(last) : null }
  })
  return { fetchPage, calls }
}

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

describe('useCursorList', () => {
  it('pages forward and back with the cursors seen', async () => {
    const api = numbers(5)
    const list = useCursorList(api.fetchPage, 2)
    await list.reload()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasNext.value).toBe(true)
    await list.next()
    await list.next()
    expect(list.items.value).toEqual([5])
    expect(list.pageIndex.value).toBe(2)
    expect(list.hasNext.value).toBe(false)
    await list.next() // nothing further
    await list.prev()
    expect(list.items.value).toEqual([3, 4])
    expect(api.calls.map((c) => c.cursor)).toEqual([null, '2', '4', '2'])
  })

  it('keeps only the answer of the newest request', async () => {
    const resolvers: ((page: CursorPage<string>) => void)[] = []
    const list = useCursorList<string>(() => new Promise((resolve) => resolvers.push(resolve)))
    const first = list.reload()
    const second = list.reload()
    resolvers[1]?.({ items: ['new'], next_cursor: null })
    await second
    expect(list.loading.value).toBe(false)
    resolvers[0]?.({ items: ['old'], next_cursor: 'x' })
    await first
    expect(list.items.value).toEqual(['new'])
    expect(list.hasNext.value).toBe(false)
  })

  it('replaces a row in place and refreshes the page shown', async () => {
    const api = numbers(3)
    const list = useCursorList(api.fetchPage, 2)
    await list.reload()
    list.replace((n) => n === 2, 20)
    expect(list.items.value).toEqual([1, 20])
    await list.refresh()
    expect(list.items.value).toEqual([1, 2])
  })

  it('binds the pager: state, page size model and events', async () => {
    const api = numbers(30)
    const list = useCursorList(api.fetchPage)
    await list.reload()
    expect(list.pager.value).toMatchObject({ pageSize: 20, pageIndex: 0, hasNext: true, loading: false, count: 20 })
    await list.pager.value.onNext()
    expect(list.pager.value).toMatchObject({ pageIndex: 1, hasNext: false, count: 10 })
    await list.pager.value.onPrev()
    expect(list.pager.value.pageIndex).toBe(0)
    list.pager.value['onUpdate:pageSize'](50)
    expect(list.pageSize.value).toBe(50)
    await list.pager.value.onResize()
    expect(list.pager.value).toMatchObject({ pageSize: 50, pageIndex: 0, hasNext: false, count: 30 })
    expect(api.calls.at(-1)).toEqual({ cursor: null, limit: 50 })
  })
})

describe('useQueryList', () => {
  interface Query {
    q: string
    range: [string, string] | null
  }
  type Filter = { q?: string; from?: string }

  function setup() {
    const seen: { filter: Filter; cursor: string | null; limit: number }[] = []
    const list = useQueryList({
      blank: (): Query => ({ q: '', range: null }),
      toFilter: (query): Filter => ({ q: query.q.trim() || undefined, from: query.range?.[0] }),
      fetchPage: async (filter, cursor, limit): Promise<CursorPage<string>> => {
        seen.push({ filter, cursor, limit })
        return { items: [`${filter.q ?? '*'}@${cursor ?? 'top'}`], next_cursor: cursor === null ? 'c1' : null }
      },
      pageSize: 50,
    })
    return { list, seen }
  }

  it('takes the filters on 查询 and keeps them while paging', async () => {
    const { list, seen } = setup()
    list.query.q = ' zhang '
    list.search()
    await flush()
    expect(seen.at(-1)).toEqual({ filter: { q: 'zhang', from: undefined }, cursor: null, limit: 50 })
    expect(list.applied()).toEqual({ q: 'zhang', from: undefined })

    list.query.q = 'typed but not searched'
    await list.next()
    expect(seen.at(-1)).toEqual({ filter: { q: 'zhang', from: undefined }, cursor: 'c1', limit: 50 })
    expect(list.applied()).toEqual({ q: 'zhang', from: undefined })
    expect(list.items.value).toEqual(['zhang@c1'])
  })

  it('重置 restores the blank form and searches from the first page', async () => {
    const { list, seen } = setup()
    list.query.q = 'li'
    list.query.range = ['2026-01-01', '2026-01-31']
    list.search()
    await flush()
    expect(seen.at(-1)?.filter).toEqual({ q: 'li', from: '2026-01-01' })
    await list.next()

    list.resetQuery()
    await flush()
    expect(list.query).toEqual({ q: '', range: null })
    expect(seen.at(-1)).toEqual({ filter: { q: undefined, from: undefined }, cursor: null, limit: 50 })
    expect(list.pageIndex.value).toBe(0)
    expect(list.items.value).toEqual(['*@top'])
  })

  it('starts with the filters of the blank form', () => {
    const { list } = setup()
    expect(list.applied()).toEqual({ q: undefined, from: undefined })
  })
})
