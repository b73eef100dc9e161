import { http } from './client'
import type { IsoDateTime } from './types'

export type OwnershipState = 'owned' | 'overdue' | 'public' | 'invalid'
export type OwnershipCategory =
  | 'mine' | 'public' | 'overdue' | 'collided' | 'invalid' | 'in_progress' | 'channel' | 'all'

/** One customer's ownership (客户归属), its deadline computed by the project's rules. */
export interface OwnershipRow {
  customer_id: number
  project_id: number
  site_id: string
  name_masked: string | null
  phone_masked: string
  /** The sales stage: visited / pledged / subscribed / to_sign / signed / void / refunded. */
  stage: string
  ownership: OwnershipState
  owner_id: number | null
  owner_name: string | null
  previous_owner_id: number | null
  previous_owner_name: string | null
  owned_since: IsoDateTime | null
  protection_until: IsoDateTime
  last_effective_at: IsoDateTime | null
  /** Null: no deadline (not owned, or at 认筹 or later). */
  lapse_at: IsoDateTime | null
  lapse_reason: 'follow_up_overdue' | 'protection_ended' | null
  warn_from: IsoDateTime | null
  lapsed_at: IsoDateTime | null
  visit_count: number
  last_visit_at: IsoDateTime
  open_collisions: number
}

export interface OwnershipPage {
  items: OwnershipRow[]
  total: number
}

export interface PathStep {
  id: number
  kind: string
  at: IsoDateTime
  from_owner_id: number | null
  from_owner_name: string | null
  to_owner_id: number | null
  to_owner_name: string | null
  /** Null: the system (a synced visit, the pool job). */
  actor_id: number | null
  actor_name: string | null
  category: string | null
  reason: string | null
}

export interface Collision {
  id: number
  customer_id: number
  project_id: number
  phone_masked: string
  visit_id: string
  owner_id: number
  owner_name: string | null
  consultant_id: number
  consultant_name: string | null
  occurred_at: IsoDateTime
  resolved_at: IsoDateTime | null
}

export interface OwnershipCard {
  customer: OwnershipRow
  /** Oldest first. */
  path: PathStep[]
  collisions: Collision[]
}

export interface Pickup {
  id: number
  customer_id: number
  project_id: number
  phone_masked: string
  requester_id: number
  requester_name: string
  status: 'pending' | 'approved' | 'refused'
  reason: string | null
  decided_by: number | null
  decided_by_name: string | null
  decided_at: IsoDateTime | null
  decision_note: string | null
  created_at: IsoDateTime
}

export interface OwnershipSettings {
  protection_days: number
  follow_up_days: number
  warn_days: number
  lapse_action: 'pool' | 'warn'
  /** Null: the old owner never picks the customer back. */
  reclaim_cooldown_days: number | null
}

export interface OwnershipQuery {
  category: OwnershipCategory
  project_id?: number
  site_id?: string
  owner_id?: number
  limit: number
  offset: number
}

export interface AssignBody {
  to_user_id: number
  /** What the manager saw: the server refuses when it changed since. */
  expected_owner_id: number | null
  expected_ownership: OwnershipState
  reason: string
}

export const ownershipApi = {
  customers: (query: OwnershipQuery) => http.get<OwnershipPage>('/ownership/customers', { ...query }),
  card: (customerId: number) => http.get<OwnershipCard>(`/customers/${customerId}/ownership`),
  assign: (customerId: number, body: AssignBody) =>
    http.post<OwnershipCard>(`/customers/${customerId}/assign`, body),
  invalidate: (customerId: number, expected: OwnershipState, reason: string) =>
    http.post<OwnershipCard>(`/customers/${customerId}/invalidate`, { expected_ownership: expected, reason }),
  requestPickup: (customerId: number, reason: string | null) =>
    http.post<Pickup>(`/customers/${customerId}/pickup-requests`, { reason }),
  pickups: (status?: Pickup['status'], projectId?: number) =>
    http.get<Pickup[]>('/pool/pickup-requests', { status, project_id: projectId }),
  decide: (requestId: number, approve: boolean, note: string | null) =>
    http.post<Pickup>(`/pool/pickup-requests/${requestId}/decision`, { approve, note }),
  collisions: (projectId?: number) => http.get<Collision[]>('/ownership/collisions', { project_id: projectId }),
  resolveCollision: (id: number) => http.post<Collision>(`/ownership/collisions/${id}/resolve`),
  settings: (projectId: number) => http.get<OwnershipSettings>(`/projects/${projectId}/ownership-settings`),
  saveSettings: (projectId: number, body: OwnershipSettings) =>
    http.put<OwnershipSettings>(`/projects/${projectId}/ownership-settings`, body),
}
