import { ref, shallowRef } from 'vue'

import type { CursorPage } from '@/api/types'

/**
 * Server paging over a cursor API: the page is fetched with the cursor that ended the
 * previous one, and the cursors seen are kept so "上一页" goes back without guessing.
 */
export function useCursorList<T>(
  fetchPage: (cursor: string | null, limit: number) => Promise<CursorPage<T>>,
  initialPageSize = 20,
) {
  const items = shallowRef<T[]>([])
  const loading = ref(false)
  const pageIndex = ref(0)
  const pageSize = ref(initialPageSize)
  const hasNext = ref(false)
  // cursors[i] is the cursor that fetches page i; page 0 starts from the top.
  let cursors: (string | null)[] = [null]
  let ticket = 0

  async function load(index: number): Promise<void> {
    const mine = ++ticket
    loading.value = true
    try {
      const page = await fetchPage(cursors[index] ?? null, pageSize.value)
      if (mine !== ticket) return // a newer query won
      items.value = page.items
      pageIndex.value = index
      hasNext.value = page.next_cursor !== null
      cursors = cursors.slice(0, index + 1)
      if (page.next_cursor !== null) cursors.push(page.next_cursor)
    } finally {
      if (mine === ticket) loading.value = false
    }
  }

  /** From the first page (new filters, new page size, or a plain refresh). */
  function reload(): Promise<void> {
    cursors = [null]
    return load(0)
  }

  /** The page shown now again, e.g. after editing a row. */
  function refresh(): Promise<void> {
    return load(pageIndex.value)
  }

  const next = () => (hasNext.value ? load(pageIndex.value + 1) : Promise.resolve())
  const prev = () => (pageIndex.value > 0 ? load(pageIndex.value - 1) : Promise.resolve())

  /** Replace one row in place (the API answered with the updated row). */
  function replace(match: (item: T) => boolean, updated: T): void {
    items.value = items.value.map((item) => (match(item) ? updated : item))
  }

  return { items, loading, pageIndex, pageSize, hasNext, reload, refresh, next, prev, replace }
}
