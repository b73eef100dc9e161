// The access token, per browser tab (sessionStorage); the refresh token is an HttpOnly
// cookie script cannot read (ADR 0019), as in the console.
import { ref } from 'vue'

const KEY = 'anchang.h5.token'

function read(): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    return null
  }
}

const token = ref<string | null>(read())

export const session = {
  token,
  signIn(value: string): void {
    token.value = value
    sessionStorage.setItem(KEY, value)
  },
  signOut(): void {
    token.value = null
    sessionStorage.removeItem(KEY)
  },
}
