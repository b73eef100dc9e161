import { describe, expect, it, vi } from 'vitest'

import { type NumberedPage, usePagedQuery } from '../usePagedQuery'

interface Form {
  min: number
}

/** A fake numbered API over 1..total, filtered by `n >= min`. */
function numbers(total: number) {
  return vi.fn(async (filter: { min: number }, page: number, limit: number): Promise<NumberedPage<number>> => {
    const all = Array.from({ length: total }, (_, i) => i + 1).filter((n) => n >= filter.min)
    return { items: all.slice((page - 1) * limit, page * limit), total: all.length }
  })
}

function list(total: number, maxDepth?: number) {
  const fetchPage = numbers(total)
  const paged = usePagedQuery({
    blank: (): Form => ({ min: 1 }),
    toFilter: (q: Form) => ({ min: q.min }),
    fetchPage,
    pageSize: 10,
    maxDepth,
  })
  return { fetchPage, paged }
}

describe('usePagedQuery', () => {
  it('jumps to a page with the filters of the last search, and shows the total', async () => {
    const { fetchPage, paged } = list(35)
    paged.query.min = 6
    await paged.search()
    expect(paged.total.value).toBe(30)
    expect(paged.pageCount.value).toBe(3)
    paged.query.min = 30 // typed but not searched: paging keeps the applied filters
    await paged.load(3)
    expect(paged.items.value).toEqual([26, 27, 28, 29, 30, 31, 32, 33, 34, 35])
    expect(paged.page.value).toBe(3)
    expect(fetchPage.mock.calls.at(-1)).toEqual([{ min: 6 }, 3, 10])
  })

  it('changing the page size starts again at page 1', async () => {
    const { paged } = list(35)
    await paged.search()
    await paged.load(2)
    paged.pager.value.onChangeSize(20)
    await vi.waitFor(() => expect(paged.items.value).toHaveLength(20))
    expect(paged.page.value).toBe(1)
    expect(paged.pageCount.value).toBe(2)
  })

  it('caps the pages a jump can reach and says there is more', async () => {
    const { paged } = list(95, 50)
    await paged.search()
    expect(paged.pageCount.value).toBe(5)
    expect(paged.beyondReach.value).toBe(true)
    await paged.resetQuery()
    expect(paged.query.min).toBe(1)
  })

  it('keeps only the answer of the newest request', async () => {
    const resolvers: ((page: NumberedPage<string>) => void)[] = []
    const paged = usePagedQuery({
      blank: () => ({}),
      toFilter: () => ({}),
      fetchPage: () => new Promise<NumberedPage<string>>((resolve) => resolvers.push(resolve)),
    })
    const first = paged.search()
    const second = paged.load(2)
    resolvers[1]?.({ items: ['new'], total: 1 })
    await second
    resolvers[0]?.({ items: ['old'], total: 9 })
    await first
    expect(paged.items.value).toEqual(['new'])
    expect(paged.page.value).toBe(2)
  })
})
