// The kiosk device: its bearer token, entered once (or provisioned with ?token=…).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { kioskApi } from '../api/kiosk'
import { load, remove, save } from '../lib/storage'

export const MIN_TOKEN_LENGTH = 24

export const useDeviceStore = defineStore('device', () => {
  const token = ref<string | null>(load<string>('token'))
  /** Set when the agent refused the stored token; the setup screen explains it. */
  const rejectedReason = ref<string | null>(null)

  const configured = computed(() => Boolean(token.value) && rejectedReason.value === null)

  function adopt(value: string): void {
    token.value = value
    rejectedReason.value = null
    save('token', value)
  }

  /** Check a token against the agent, then keep it. Throws ApiError / EdgeUnreachableError. */
  async function verifyAndAdopt(value: string): Promise<void> {
    await kioskApi.status(value)
    adopt(value)
  }

  function reject(reason: string): void {
    rejectedReason.value = reason
  }

  function forget(): void {
    token.value = null
    rejectedReason.value = null
    remove('token')
  }

  /** A provisioning link (…/kiosk/?token=…) hands the device its token. */
  function adoptFromLink(given: string): void {
    if (given.trim().length >= MIN_TOKEN_LENGTH) adopt(given.trim())
  }

  return { token, rejectedReason, configured, adopt, verifyAndAdopt, reject, forget, adoptFromLink }
})
