import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { type PermissionRequirement, hasPermission } from '@/access/permissions'
import { authApi, type Me } from '@/api/auth'
import { onTokensChange, tokenHolder } from '@/api/tokens'

/** The signed-in user: tokens (kept by the request layer), profile and permission codes. */
export const useSessionStore = defineStore('session', () => {
  const signedIn = ref(tokenHolder.get() !== null)
  const me = ref<Me | null>(null)
  onTokensChange((tokens) => {
    signedIn.value = tokens !== null
    if (tokens === null) me.value = null
  })

  const permissions = computed<ReadonlySet<string>>(() => new Set(me.value?.permissions ?? []))
  const mustChangePassword = computed(() => me.value?.must_change_password ?? false)

  function can(required: PermissionRequirement | undefined): boolean {
    return hasPermission(permissions.value, required)
  }

  async function login(username: string, password: string): Promise<Me> {
    const result = await authApi.login(username, password)
    tokenHolder.set({ accessToken: result.access_token })
    me.value = result.user
    return result.user
  }

  async function loadMe(): Promise<Me> {
    const loaded = await authApi.me()
    me.value = loaded
    return loaded
  }

  async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await authApi.changePassword(oldPassword, newPassword)
    await loadMe()
  }

  /** Ends the session on the server (revoking the refresh token), then here. */
  async function logout(): Promise<void> {
    if (tokenHolder.get() !== null) {
      await authApi.logout().catch(() => undefined)
    }
    tokenHolder.set(null)
  }

  function $reset(): void {
    me.value = null
    signedIn.value = tokenHolder.get() !== null
  }

  return { signedIn, me, permissions, mustChangePassword, can, login, loadMe, changePassword,
    logout, $reset }
})
