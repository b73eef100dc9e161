import { type WatchSource, computed, onActivated, onDeactivated, onScopeDispose, shallowRef, watch } from 'vue'

// The pages now showing a full phone number or name; the layout draws the viewer's
// watermark over the whole screen while there is one, so a photo or screenshot of it
// says who looked.
const showing = shallowRef<ReadonlySet<symbol>>(new Set())

function toggle(token: symbol, on: boolean): void {
  if (showing.value.has(token) === on) return
  const next = new Set(showing.value)
  if (on) next.add(token)
  else next.delete(token)
  showing.value = next
}

/** True while any page shows unmasked personal data. */
export const unmaskedOnScreen = computed(() => showing.value.size > 0)

/**
 * Called by a page that can reveal numbers, with whether it shows one now. A page kept
 * alive in the background stops counting until it is shown again.
 */
export function useUnmaskedOnScreen(revealed: WatchSource<boolean>): void {
  const token = Symbol('unmasked')
  let active = true
  let current = false
  watch(revealed, (value) => {
    current = value
    toggle(token, active && value)
  }, { immediate: true })
  onActivated(() => {
    active = true
    toggle(token, current)
  })
  onDeactivated(() => {
    active = false
    toggle(token, false)
  })
  onScopeDispose(() => toggle(token, false))
}
