// The signed-in broker's own row (status, agency), loaded once per sign-in.
import { ref } from 'vue'

import { brokerMe } from './api/channel'
import { ApiError } from './api/http'
import type { BrokerMe } from './api/types'

export const me = ref<BrokerMe | null>(null)
/** Why this account cannot use the app yet (no broker row), if so. */
export const missing = ref<string | null>(null)

export async function loadMe(force = false): Promise<BrokerMe | null> {
  if (me.value && !force) return me.value
  try {
    me.value = await brokerMe()
    missing.value = null
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 403)) throw error
    me.value = null
    missing.value = error.message
  }
  return me.value
}

export function forgetMe(): void {
  me.value = null
  missing.value = null
}
