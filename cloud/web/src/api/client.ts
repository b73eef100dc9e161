import { createHttp, type ApiError } from './http'
import { tokenHolder } from './tokens'

export const API_BASE = '/api/v1'

type AuthLostHandler = (error: ApiError) => void
let authLostHandler: AuthLostHandler = () => undefined

/** main.ts installs the trip back to the login page (it needs the router and stores). */
export function setAuthLostHandler(handler: AuthLostHandler): void {
  authLostHandler = handler
}

export const http = createHttp({
  baseUrl: API_BASE,
  tokens: tokenHolder,
  notify: (message) => {
    ElMessage({ type: 'error', message, grouping: true, showClose: true })
  },
  onAuthLost: (error) => authLostHandler(error),
})
