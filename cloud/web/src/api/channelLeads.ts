import { http } from './client'
import type { IsoDateTime } from './types'

export interface Lead {
  id: number
  share_id: number
  project_id: number
  project_name: string
  broker_id: number
  broker_name: string | null
  agency_id: number | null
  customer_name: string | null
  phone_masked: string
  created_at: IsoDateTime
  views: number
  seconds: number
  last_seen_at: IsoDateTime | null
  referral_id: number | null
  referral_state: 'pending' | 'confirmed' | 'invalid' | 'expired' | null
  referral_reason: string | null
  converted_at: IsoDateTime | null
}

export interface LeadQuery {
  project_id?: number
  broker_id?: number
  agency_id?: number
  converted?: boolean
  before_id?: number
  limit?: number
}

export type LeadTimelineKind =
  'share_open' | 'page_view' | 'lead_created' | 'profile_change' | 'referral' | 'visit' | 'follow_up'

export interface LeadTimelineItem {
  kind: LeadTimelineKind
  at: IsoDateTime
  local_time: string
  actor: string
  summary: string
  object_id: string
}

export interface LeadTimeline {
  customer_id: number
  items: LeadTimelineItem[]
  has_more: boolean
}

export const channelLeadsApi = {
  leads: (query: LeadQuery = {}) => http.get<Lead[]>('/channel/leads', { ...query }),
  timeline: (customerId: number) => http.get<LeadTimeline>(`/customers/${customerId}/lead-timeline`),
}
