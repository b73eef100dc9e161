// Whether the sales office's appliance answers — not merely whether the phone has a
// network: a phone on full Wi-Fi can still be cut off from a stopped or unplugged
// appliance. Every answer from the appliance (or its silence) updates the state; while
// it is away a cheap probe (/healthz) retries with a short first wait and a back-off
// capped at 5 s, so queued follow-ups leave within ~5 s of its return. Nothing here is
// remembered across a reload: the state starts as "checking" and is probed at once.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { edgeApi, edgeEvents } from '../api/edge'

export const FIRST_RETRY_MS = 1000
export const MAX_RETRY_MS = 5000
const CHECK_EVERY_MS = 10_000 // while the appliance answers: a look now and then
const PROBE_TIMEOUT_MS = 3000

export type EdgeState = 'checking' | 'up' | 'down'

export const useReach = defineStore('reach', () => {
  const network = ref(navigator.onLine)
  const edge = ref<EdgeState>('checking')
  const comebacks: (() => void)[] = []
  let timer: number | undefined
  let delay = FIRST_RETRY_MS
  let started = false

  function schedule(): void {
    window.clearTimeout(timer)
    const wait = edge.value === 'up' ? CHECK_EVERY_MS : delay
    if (edge.value !== 'up') delay = Math.min(delay * 2, MAX_RETRY_MS)
    timer = window.setTimeout(() => void probe(), wait)
  }

  /** An answer (true) or none (false) from the appliance, from a probe or any call. */
  function reached(up: boolean): void {
    const was = edge.value
    edge.value = up ? 'up' : 'down'
    if (up) {
      delay = FIRST_RETRY_MS
      if (was !== 'up') comebacks.forEach((fn) => fn())
    } else if (was === 'up') {
      delay = FIRST_RETRY_MS
    }
    schedule()
  }

  async function probe(): Promise<void> {
    if (document.visibilityState === 'hidden' && edge.value === 'up') {
      schedule() // nobody is looking: no traffic until the app is back in front
      return
    }
    if (!navigator.onLine) {
      network.value = false
      reached(false)
      return
    }
    try {
      await edgeApi.alive(PROBE_TIMEOUT_MS)
    } catch {
      // edgeEvents already reported the silence
    }
  }

  /** Run `fn` each time the appliance answers again after being away. */
  function onComeback(fn: () => void): void {
    comebacks.push(fn)
  }

  function start(): void {
    if (started) return
    started = true
    edgeEvents.reached = reached
    window.addEventListener('online', () => {
      network.value = true
      edge.value = 'checking' // not "away" before the probe below has had its answer
      delay = FIRST_RETRY_MS
      void probe()
    })
    window.addEventListener('offline', () => {
      network.value = false
      reached(false)
    })
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void probe()
    })
    void probe()
  }

  return { network, edge, reached, probe, onComeback, start }
})
