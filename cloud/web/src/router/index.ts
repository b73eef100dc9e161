import { createRouter, createWebHistory } from 'vue-router'

import { buildMenu } from '@/access/menu'
import { hasPermission } from '@/access/permissions'
import { isApiError } from '@/api/http'
import { tokenHolder } from '@/api/tokens'
import { useSessionStore } from '@/stores/session'

import { consoleChildren, routes } from './routes'

const APP_TITLE = '案场总部控制台'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

/** Where a user lands after login: the first menu page they may open that is a home
 * page for them (else the first they may open). */
export function homePath(granted: ReadonlySet<string>): string {
  const items = buildMenu(consoleChildren, granted)
  return (items.find((item) => item.home) ?? items[0])?.path ?? '/403'
}

// Page access: signed in, password change done, and the page's permission held.
router.beforeEach(async (to) => {
  const session = useSessionStore()
  if (to.meta.public) return true
  if (tokenHolder.get() === null) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (session.me === null) {
    try {
      await session.loadMe()
    } catch (error) {
      // The user has been told why (session over, or no connection): sign in again.
      if (isApiError(error)) return { name: 'login', query: { redirect: to.fullPath } }
      throw error
    }
  }
  if (session.mustChangePassword && !to.meta.allowPendingPassword) {
    return { name: 'password' }
  }
  if (to.name === 'home') return homePath(session.permissions)
  if (!hasPermission(session.permissions, to.meta.permission)) {
    return { name: 'forbidden', query: { from: to.fullPath } }
  }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · ${APP_TITLE}` : APP_TITLE
})
