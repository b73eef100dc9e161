import type { PiniaPluginContext } from 'pinia'

/**
 * Every setup store returns its own `$reset`; this plugin remembers the stores in use so
 * logging out (or losing the session) wipes all of them — nothing of one user's data
 * survives into the next user's session on the same computer.
 */
type Resettable = { $reset: () => void }
const stores = new Set<Resettable>()

export function resetPlugin({ store }: PiniaPluginContext): void {
  stores.add(store)
}

export function resetAllStores(): void {
  stores.forEach((store) => store.$reset())
}
