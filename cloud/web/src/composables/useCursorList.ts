import { computed, reactive, ref, shallowRef } from 'vue'

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

  /** Everything `<CursorPager v-bind="pager" />` takes: state, page size model and events. */
  const pager = computed(() => ({
    pageSize: pageSize.value,
    'onUpdate:pageSize': (size: number) => {
      pageSize.value = size
    },
    pageIndex: pageIndex.value,
    hasNext: hasNext.value,
    loading: loading.value,
    count: items.value.length,
    onPrev: prev,
    onNext: next,
    onResize: reload,
  }))

  return { items, loading, pageIndex, pageSize, hasNext, pager, reload, refresh, next, prev, replace }
}

export interface QueryListOptions<T, Q extends object, F> {
  /** The empty query form: shown at first and restored by "重置". */
  blank: () => Q
  /** The filters for a query form, taken when it is submitted. */
  toFilter: (query: Q) => F
  fetchPage: (filter: F, cursor: string | null, limit: number) => Promise<CursorPage<T>>
  pageSize?: number
}

/**
 * A cursor list behind a query form. "查询" takes the filters from the form; paging,
 * page size changes and `applied()` keep using them until the next "查询" or "重置",
 * whatever is typed into the form meanwhile.
 */
export function useQueryList<T, Q extends object, F>(options: QueryListOptions<T, Q, F>) {
  const query = reactive(options.blank()) as Q
  // The filters of the table on screen.
  let applied: F = options.toFilter(options.blank())
  const list = useCursorList<T>((cursor, limit) => options.fetchPage(applied, cursor, limit), options.pageSize)

  function search(): void {
    applied = options.toFilter(query)
    void list.reload()
  }

  function resetQuery(): void {
    Object.assign(query, options.blank())
    search()
  }

  return { ...list, query, applied: (): F => applied, search, resetQuery }
}
