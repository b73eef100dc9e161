// Shapes of the edge's /api/v1/staff/* and the cloud's /api/v1/follow-ups.

export type FollowUpKind = 'call' | 'visit' | 'wechat' | 'meeting'

export const KIND_LABELS: Record<FollowUpKind, string> = {
  call: '电话',
  visit: '到访',
  wechat: '微信',
  meeting: '面谈',
}

export interface StaffUser {
  id: number
  name: string
  roles: string[]
}

export interface StaffSession {
  edge_token: string
  edge_token_expires_at: string
  cloud_access_token: string
  cloud_refresh_token: string
  cloud_url: string | null
  site_id: string
  user: StaffUser
  projects: { id: number; name: string }[]
  default_project_id: number | null
}

export interface Visit {
  id: string
  project_id: number
  phone_masked: string
  name_masked: string | null
  party_size: number
  intent: string | null
  source: string
  consultant_id: number | null
  occurred_at: string
  visit_date: string
  classification: 'first_visit' | 'return_visit'
  provisional: boolean
  visit_count: number
  owner_id: number | null
  owner_name: string | null
  follow_up_count: number
}

/** What the phone sends, to the edge or to the cloud; `id` is the Idempotency-Key. */
export interface FollowUpBody {
  id: string
  visit_id?: string
  project_id?: number
  phone?: string
  kind: FollowUpKind
  reached: boolean
  note: string
  next_at?: string
  occurred_at: string
}

export interface TokenPair {
  access_token: string
  refresh_token: string
}
