// Today's visits (masked), newest first.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { kioskApi } from '../api/kiosk'
import type { VisitOut } from '../api/types'

export const useVisitsStore = defineStore('visits', () => {
  const today = ref<VisitOut[]>([])
  const loaded = ref(false)

  const summary = computed(() => ({
    groups: today.value.length,
    firstVisits: today.value.filter((v) => v.classification === 'first_visit').length,
    returnVisits: today.value.filter((v) => v.classification === 'return_visit').length,
    people: today.value.reduce((sum, v) => sum + v.party_size, 0),
  }))

  async function refresh(): Promise<void> {
    today.value = await kioskApi.todaysVisits()
    loaded.value = true
  }

  return { today, loaded, summary, refresh }
})
