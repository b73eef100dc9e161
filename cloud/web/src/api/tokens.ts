import type { TokenPair, TokenHolder } from './http'

// The short-lived access token, per browser tab (sessionStorage). The refresh token is
// not here: it is an HttpOnly cookie script cannot read (ADR 0019). The server's
// 30-minute idle timeout ends the session everywhere.
const KEY = 'anchang.console.tokens'

function read(): TokenPair | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (!raw) return null
    const value = JSON.parse(raw) as Partial<TokenPair>
    if (typeof value.accessToken === 'string') return { accessToken: value.accessToken }
  } catch {
    // unreadable storage: treat as signed out
  }
  return null
}

let current: TokenPair | null = read()
const listeners = new Set<(tokens: TokenPair | null) => void>()

export const tokenHolder: TokenHolder = {
  get: () => current,
  set(tokens) {
    current = tokens
    if (tokens) sessionStorage.setItem(KEY, JSON.stringify(tokens))
    else sessionStorage.removeItem(KEY)
    listeners.forEach((listener) => listener(tokens))
  },
}

export function onTokensChange(listener: (tokens: TokenPair | null) => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
