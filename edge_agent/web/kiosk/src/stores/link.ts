// Is the edge agent reachable, and is it linked to the cloud? Polled from /kiosk/status.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { kioskApi } from '../api/kiosk'
import type { KioskStatusOut } from '../api/types'

export const useLinkStore = defineStore('link', () => {
  const edgeReachable = ref(true)
  const status = ref<KioskStatusOut | null>(null)

  const backlog = computed(() => status.value?.backlog ?? 0)
  /** What the status bar shows. */
  const state = computed<
    'unknown' | 'edge_down' | 'storage_full' | 'sync_off' | 'cloud_down' | 'stalled' | 'refused' | 'online'
  >(() => {
    if (!edgeReachable.value) return 'edge_down'
    if (status.value === null) return 'unknown'
    if (status.value.storage_full) return 'storage_full'
    if (!status.value.sync_enabled) return 'sync_off'
    const cloud = status.value.cloud_link
    return cloud === 'offline' ? 'cloud_down' : cloud
  })

  function setReachable(reachable: boolean): void {
    edgeReachable.value = reachable
  }

  async function refresh(): Promise<void> {
    try {
      status.value = await kioskApi.status()
    } catch {
      // reachability is recorded by the HTTP layer; a 401 sends the device to setup
    }
  }

  return {
    edgeReachable, status, backlog, state, setReachable, refresh,
  }
})
