import { type Ref, ref, watch } from 'vue'

export const SIDEBAR_KEY = 'anchang.console.sidebar-collapsed'

/**
 * Whether the side menu is collapsed to icons, remembered in this browser: a setting of
 * the screen, not of the session, so it outlives logging out.
 */
export function useSidebarCollapsed(storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): Ref<boolean> {
  const collapsed = ref(storage.getItem(SIDEBAR_KEY) === '1')
  watch(collapsed, (value) => storage.setItem(SIDEBAR_KEY, value ? '1' : '0'))
  return collapsed
}
