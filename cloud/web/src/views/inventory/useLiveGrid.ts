/**
 * The 销控表 kept live: a conditional GET every few seconds with the grid's ETag (ADR
 * 0032). An unchanged grid answers 304 with no body; a change anywhere in the project
 * moves the ETag and the next poll brings the new grid. Paused while the tab is hidden.
 */
import { onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue'

import { type Grid, inventoryApi } from '@/api/inventory'
import { isApiError } from '@/api/http'

export const POLL_MS = 3000

export function useLiveGrid(projectId: Ref<number | null>, every = POLL_MS) {
  const grid = ref<Grid | null>(null)
  const loading = ref(false)
  const updatedAt = ref<Date | null>(null)
  let etag: string | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  async function refresh(background = false): Promise<void> {
    const id = projectId.value
    if (id === null) return
    if (!background) loading.value = true
    try {
      const answer = await inventoryApi.grid(id, etag, background)
      if (answer.changed && projectId.value === id) {
        grid.value = answer.body
        etag = answer.etag
      }
      updatedAt.value = new Date()
    } catch (error) {
      if (!isApiError(error)) throw error
    } finally {
      loading.value = false
    }
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(async () => {
      if (document.visibilityState === 'visible') await refresh(true)
      schedule()
    }, every)
  }

  watch(projectId, () => {
    etag = null
    grid.value = null
    void refresh()
  })

  onMounted(() => {
    void refresh()
    schedule()
  })
  onBeforeUnmount(() => {
    stopped = true
    if (timer) clearTimeout(timer)
  })

  return { grid, loading, updatedAt, refresh }
}
