// The visitor's acceptance of the personal-information and camera notice. Kept in
// localStorage (notice version + acceptance time) for one registration session: it ends
// when the receptionist starts the next visitor, after SESSION_MINUTES, or when the
// notice version changes.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { load, remove, save } from '../lib/storage'

export const NOTICE_VERSION = '2026-11-v1'
export const SESSION_MINUTES = 30

export interface ConsentRecord {
  version: string
  acceptedAt: string
}

export const useConsentStore = defineStore('consent', () => {
  const record = ref<ConsentRecord | null>(load<ConsentRecord>('consent'))
  const declined = ref(false)

  function isValid(now = Date.now()): boolean {
    const current = record.value
    if (!current || current.version !== NOTICE_VERSION) return false
    const age = now - Date.parse(current.acceptedAt)
    return age >= 0 && age < SESSION_MINUTES * 60_000
  }

  const accepted = computed(() => isValid())

  function accept(): void {
    record.value = { version: NOTICE_VERSION, acceptedAt: new Date().toISOString() }
    declined.value = false
    save('consent', record.value)
  }

  function decline(): void {
    record.value = null
    declined.value = true
    remove('consent')
  }

  /** The session is over (next visitor): the notice is shown again. */
  function end(): void {
    record.value = null
    declined.value = false
    remove('consent')
  }

  return { record, declined, accepted, isValid, accept, decline, end }
})
