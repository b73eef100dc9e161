import { http } from './client'
import type { Download } from './http'
import type { CursorPage, IsoDate, IsoDateTime } from './types'

export type VisitSource = 'natural' | 'channel' | 'referral_old_customer' | 'online' | 'other'

/** The visitor's consent as the sales office's appliance recorded it with the visit. */
export interface VisitConsent {
  notice_version: string
  method: 'kiosk_screen' | 'staff_confirmed' | string
  /** The kiosk tablet's clock: a hint. */
  accepted_at: IsoDateTime
  /** The appliance's clock when it received the registration. */
  recorded_at: IsoDateTime
  /** The tablet's address on the office LAN. */
  tablet: string
}

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
  /** Null: registered by an appliance version that did not record consent yet. */
  consent: VisitConsent | null
}

/** A page of visits: `total` counts every visit the filters match. */
export interface VisitPage extends CursorPage<Visit> {
  total: number
}

export interface VisitFilter {
  site_id?: string
  project_id?: number
  date_from?: IsoDate
  date_to?: IsoDate
  /** The full number (any common format) or its masked form 138****5678. */
  phone?: string
  customer_id?: number
  consultant_id?: number
  /** true: first visits only; false: return visits only. */
  first_visit?: boolean
}

/** A page jump may go this deep (page × page size); the server refuses beyond. */
export const MAX_PAGE_DEPTH = 10_000

export interface Consultant {
  id: number
  name: string
  active: boolean
  site_ids: string[]
}

export interface Customer {
  id: number
  project_id: number
  name_masked: string | null
  phone_masked: string
  owner_id: number | null
  status: string
  visit_count: number
  first_visit_at: IsoDateTime
  last_visit_at: IsoDateTime
  protection_until: IsoDateTime
}

export interface CustomerCard extends Customer {
  site_id: string
  owner_name: string | null
}

export interface VisitEntry {
  kind: 'visit'
  id: string
  at: IsoDateTime
  consultant_id: number | null
  consultant_name: string | null
  site_id: string
  is_first_visit: boolean
  party_size: number
  source: VisitSource | string
  intent: string | null
  time_corrected: boolean
  consent: VisitConsent | null
}

export type FollowUpKind = 'call' | 'visit' | 'wechat' | 'meeting'

export interface FollowUpEntry {
  kind: 'follow_up'
  id: string
  at: IsoDateTime
  consultant_id: number
  consultant_name: string | null
  follow_up_kind: FollowUpKind | string
  reached: boolean
  /** 有效跟进: the customer was reached, or visited. */
  effective: boolean
  note: string
  next_at: IsoDateTime | null
  recorded_via: 'edge' | 'cloud' | string
}

export type TimelineEntry = VisitEntry | FollowUpEntry

export interface CustomerTimeline {
  customer: CustomerCard
  /** Newest first. */
  items: TimelineEntry[]
  has_more: boolean
}

/** Who a full number is shown for: the customer and how it looks masked. */
export interface UnmaskTarget {
  customer_id: number
  name_masked: string | null
  phone_masked: string
}

export interface UnmaskedContact {
  customer_id: number
  phone: string
  name: string | null
}

export const salesApi = {
  /** Keyset paging (the dashboard walks every page this way). */
  visits: (filter: VisitFilter, cursor: string | null, limit: number) =>
    http.get<VisitPage>('/visits', { ...filter, cursor, limit }),
  /** Page-number paging for the list's page jumps (1-based). */
  visitPage: (filter: VisitFilter, page: number, limit: number) =>
    http.get<VisitPage>('/visits', { ...filter, page, limit }),
  /** XLSX, masked, audited on the server; X-Export-Truncated says whether rows were cut. */
  exportVisits: (filter: VisitFilter): Promise<Download> => http.download('/visits/export', { ...filter }),
  consultants: (siteId?: string) => http.get<Consultant[]>('/consultants', { site_id: siteId }),
  timeline: (customerId: number) => http.get<CustomerTimeline>(`/customers/${customerId}/timeline`),
  /** Audited on the server with the reason. */
  unmask: (customerId: number, reason: string) =>
    http.post<UnmaskedContact>(`/customers/${customerId}/unmask`, { reason }),
}
