import { http } from './client'
import type { CursorPage, IsoDate, IsoDateTime } from './types'

export type VisitSource = 'natural' | 'channel' | 'referral_old_customer' | 'online' | 'other'

export interface Visit {
  id: string
  site_id: string
  project_id: number
  customer_id: number
  customer_name_masked: string | null
  phone_masked: string
  consultant_id: number | null
  consultant_name: string | null
  party_size: number
  intent: string | null
  source: VisitSource | string
  is_first_visit: boolean
  /** The sales office's calendar day (Beijing time). */
  visit_date: IsoDate
  occurred_at: IsoDateTime
  edge_occurred_at: IsoDateTime
  /** The edge clock was off; occurred_at was corrected on arrival. */
  time_corrected: boolean
}

export interface VisitFilter {
  site_id?: string
  project_id?: number
  date_from?: IsoDate
  date_to?: IsoDate
}

export interface UnmaskedContact {
  customer_id: number
  phone: string
  name: string | null
}

export const salesApi = {
  visits: (filter: VisitFilter, cursor: string | null, limit: number) =>
    http.get<CursorPage<Visit>>('/visits', { ...filter, cursor, limit }),
  /** Audited on the server with the reason. */
  unmask: (customerId: number, reason: string) =>
    http.post<UnmaskedContact>(`/customers/${customerId}/unmask`, { reason }),
}
