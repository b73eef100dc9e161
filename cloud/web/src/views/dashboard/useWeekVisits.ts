import { ref, shallowRef } from 'vue'

import { type Visit, salesApi } from '@/api/sales'
import { lastDays } from '@/utils/time'

import { type DailyVisits, visitsPerDay } from './stats'

const PAGE = 200
// Enough for a dashboard glance; beyond it the chart says it is partial.
const MAX_PAGES = 25

/** The last 7 days of visits in the user's scope, read page by page from /visits. */
export function useWeekVisits() {
  const days = shallowRef<DailyVisits[]>([])
  const total = ref(0)
  const partial = ref(false)
  const loading = ref(true) // the page loads on mount

  async function load(): Promise<void> {
    loading.value = true
    try {
      const range = lastDays(7)
      const visits: Visit[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page = await salesApi.visits({ date_from: range[0], date_to: range[6] }, cursor, PAGE)
        visits.push(...page.items)
        cursor = page.next_cursor
        pages += 1
      } while (cursor !== null && pages < MAX_PAGES)
      partial.value = cursor !== null
      total.value = visits.length
      days.value = visitsPerDay(visits, range)
    } finally {
      loading.value = false
    }
  }

  return { days, total, partial, loading, load }
}
