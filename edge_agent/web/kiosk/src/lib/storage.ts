// localStorage with JSON and a namespace; a kiosk in private mode just forgets.
const PREFIX = 'anchang.kiosk.'

export function load<T>(key: string): T | null {
  try {
    const text = window.localStorage.getItem(PREFIX + key)
    return text === null ? null : (JSON.parse(text) as T)
  } catch {
    return null
  }
}

export function save(key: string, value: unknown): void {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify(value))
  } catch {
    // storage full or disabled: the session continues in memory
  }
}

export function remove(key: string): void {
  try {
    window.localStorage.removeItem(PREFIX + key)
  } catch {
    // ignore
  }
}
