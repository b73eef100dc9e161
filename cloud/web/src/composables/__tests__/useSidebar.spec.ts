import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'

import { SIDEBAR_KEY, useSidebarCollapsed } from '../useSidebar'

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial))
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    data,
  }
}

describe('useSidebarCollapsed', () => {
  it('starts expanded and remembers a collapse', async () => {
    const storage = memoryStorage()
    const collapsed = useSidebarCollapsed(storage)
    expect(collapsed.value).toBe(false)
    collapsed.value = true
    await nextTick()
    expect(storage.data.get(SIDEBAR_KEY)).toBe('1')
    expect(useSidebarCollapsed(storage).value).toBe(true)
  })

  it('reads an expanded choice back', () => {
    expect(useSidebarCollapsed(memoryStorage({ [SIDEBAR_KEY]: '0' })).value).toBe(false)
  })
})
