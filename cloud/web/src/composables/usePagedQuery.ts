import { computed, reactive, ref, shallowRef } from 'vue'

/** A page of a list paged by number, with the count of everything the filters match. */
export interface NumberedPage<T> {
  items: T[]
  total: number
}

export interface PagedQueryOptions<T, Q extends object, F> {
  /** The empty query form: shown at first and restored by "重置". */
  blank: () => Q
  /** The filters for a query form, taken when it is submitted. */
  toFilter: (query: Q) => F
  fetchPage: (filter: F, page: number, limit: number) => Promise<NumberedPage<T>>
  pageSize?: number
  /** How deep a page jump may go (page × page size), as the server allows. */
  maxDepth?: number
}

/**
 * A list behind a query form, paged by number so the user can jump to any page and see
 * the total. "查询" takes the filters from the form and starts at page 1; paging, page
 * size changes and `applied()` keep those filters until the next "查询" or "重置".
 */
export function usePagedQuery<T, Q extends object, F>(options: PagedQueryOptions<T, Q, F>) {
  const query = reactive(options.blank()) as Q
  let applied: F = options.toFilter(options.blank())
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(options.pageSize ?? 20)
  const loading = ref(false)
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY
  let ticket = 0

  /** The last page a jump may reach with this page size. */
  const pageCount = computed(() =>
    Math.max(1, Math.min(Math.ceil(total.value / pageSize.value), Math.floor(maxDepth / pageSize.value))))
  /** More rows match than page jumps can reach: narrow the filters to see the rest. */
  const beyondReach = computed(() => total.value > pageCount.value * pageSize.value)

  async function load(target: number): Promise<void> {
    const mine = ++ticket
    loading.value = true
    try {
      const result = await options.fetchPage(applied, target, pageSize.value)
      if (mine !== ticket) return // a newer query won
      items.value = result.items
      total.value = result.total
      page.value = target
    } finally {
      if (mine === ticket) loading.value = false
    }
  }

  function search(): Promise<void> {
    applied = options.toFilter(query)
    return load(1)
  }

  function resetQuery(): Promise<void> {
    Object.assign(query, options.blank())
    return search()
  }

  /** The page shown now again, e.g. after a change elsewhere. */
  const refresh = () => load(page.value)

  /** Everything `<TablePager v-bind="pager" />` takes. */
  const pager = computed(() => ({
    page: page.value,
    pageSize: pageSize.value,
    pageCount: pageCount.value,
    total: total.value,
    beyondReach: beyondReach.value,
    loading: loading.value,
    onChangePage: (target: number) => void load(target),
    onChangeSize: (size: number) => {
      pageSize.value = size
      void load(1)
    },
  }))

  return {
    query, applied: (): F => applied, search, resetQuery, refresh, load,
    items, total, page, pageSize, pageCount, beyondReach, loading, pager,
  }
}
