// 来电登记 on the appliance (ADR 0056): the consultant registers a call they answered.
// Straight to the edge agent on the office LAN: it keeps the call and sends it up when
// the internet is back, so no phone-side queue is needed.
import { request } from './http'

export interface CallBody {
  id: string
  phone: string
  name: string | null
  awareness: string | null
  project_id: number | null
}

export interface IncomingCall {
  id: string
  project_id: number
  phone_masked: string
  name_masked: string | null
  awareness: string | null
  consultant_id: number | null
  occurred_at: string
  call_date: string
  seq: number
}

const API = '/api/v1/staff/calls'

export const callsApi = {
  record: (token: string, body: CallBody) =>
    request<IncomingCall>(API, { method: 'POST', token, body, headers: { 'Idempotency-Key': body.id } }),
  today: (token: string) => request<IncomingCall[]>(`${API}/today`, { token }),
}
