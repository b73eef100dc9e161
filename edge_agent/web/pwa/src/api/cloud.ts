// The cloud at HQ: the fallback when the sales office's appliance is out of reach
// (the phone is on 4G, or the office LAN is down). Needs the cloud's CORS setting.
import { request } from './http'
import type { FollowUpBody, TokenPair } from './types'

const api = (base: string, path: string) => `${base.replace(/\/+$/, '')}/api/v1${path}`

export const cloudApi = {
  refresh: (base: string, refreshToken: string) =>
    request<TokenPair>(api(base, '/auth/refresh'), {
      method: 'POST',
      body: { refresh_token: refreshToken },
      timeoutMs: 10000,
    }),
  followUp: (base: string, token: string, body: FollowUpBody) =>
    request<unknown>(api(base, '/follow-ups'), {
      method: 'POST',
      token,
      body,
      headers: { 'Idempotency-Key': body.id },
      timeoutMs: 10000,
    }),
}
