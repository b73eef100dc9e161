// The sales office's edge agent: same origin as this app (it serves /pwa/).
import { request } from './http'
import type { FollowUpBody, StaffSession, Visit } from './types'

const API = '/api/v1/staff'

export const edgeApi = {
  login: (username: string, password: string) =>
    request<StaffSession>(`${API}/login`, {
      method: 'POST',
      body: { username, password },
      timeoutMs: 15000,
    }),
  visitsToday: (token: string) => request<Visit[]>(`${API}/visits/today`, { token }),
  followUp: (token: string, body: FollowUpBody) =>
    request<unknown>(`${API}/follow-ups`, {
      method: 'POST',
      token,
      body,
      headers: { 'Idempotency-Key': body.id },
      timeoutMs: 6000,
    }),
}
