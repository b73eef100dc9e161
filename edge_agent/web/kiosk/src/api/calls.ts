// 来电登记 at the kiosk (ADR 0056): the edge keeps each call and sends it up when it can.
import { request } from './http'
import type { Awareness } from './types'

export interface CallIn {
  id: string
  phone: string
  name: string | null
  awareness: Awareness | null
  project_id: number | null
  consultant_id: number | null
}

export interface CallOut {
  id: string
  project_id: number
  phone_masked: string
  name_masked: string | null
  awareness: Awareness | null
  consultant_id: number | null
  occurred_at: string
  call_date: string
  seq: number
}

export const callsApi = {
  /** 201 created, 200 the same call again: the id is the Idempotency-Key. */
  record: (body: CallIn) =>
    request<CallOut>('POST', '/kiosk/calls', { body, headers: { 'Idempotency-Key': body.id } }),
  today: () => request<CallOut[]>('GET', '/kiosk/calls'),
}
