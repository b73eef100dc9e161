import { http } from './client'
import type { IsoDateTime } from './types'

export type DealKind = 'pledge' | 'subscription' | 'contract'
export type DealStatus =
  | 'draft' | 'submitted' | 'approved' | 'converted' | 'change_pending' | 'overdue' | 'voided'
  | 'cancelled' | 'returned'

/** A deal document (认筹 / 认购 / 签约); money in fen. */
export interface Deal {
  id: number
  project_id: number
  customer_id: number
  unit_id: number | null
  unit_label: string | null
  parent_id: number | null
  kind: DealKind
  kind_name: string
  status: DealStatus
  status_name: string
  buyer_name: string
  payment_method: string
  payment_method_name: string
  price_fen: number
  list_price_fen: number
  /** 底价: only for those who see all units. */
  floor_price_fen: number | null
  amount_fen: number
  carried_fen: number
  consultant_id: number
  consultant_name: string | null
  created_by: number
  created_at: IsoDateTime
  submitted_at: IsoDateTime | null
  approved_at: IsoDateTime | null
  contract_due_at: IsoDateTime | null
  decision_note: string
  ended_reason: string
}

export interface DealChange {
  id: number
  deal_id: number
  kind: 'cancel' | 'swap' | 'rename' | 'price'
  kind_name: string
  new_unit_id: number | null
  new_price_fen: number | null
  renamed: boolean
  reason: string
  status: 'pending' | 'applied' | 'rejected'
  requested_by: number
  requested_at: IsoDateTime
  decided_at: IsoDateTime | null
  decision_note: string
}

export interface DealPayment {
  id: number
  amount_fen: number
  source: 'buyer' | 'bank'
  received_at: IsoDateTime
  note: string
}

export interface DealDetail extends Deal {
  received_fen: number
  changes: DealChange[]
  payments: DealPayment[]
  /** The caller's lowest approvable price; null without approval rights. */
  lowest_approvable_fen: number | null
}

export const dealsApi = {
  list: (projectId: number, query: { status?: DealStatus; kind?: DealKind; before_id?: number }) =>
    http.get<Deal[]>(`/deals/projects/${projectId}/deals`, query),
  get: (id: number) => http.get<DealDetail>(`/deals/${id}`),
  approve: (id: number, note: string) => http.post<DealDetail>(`/deals/${id}/approve`, { note }),
  reject: (id: number, note: string) => http.post<DealDetail>(`/deals/${id}/reject`, { note }),
  void: (id: number, reason: string) => http.post<DealDetail>(`/deals/${id}/void`, { reason }),
  applyChange: (id: number, note: string) =>
    http.post<DealChange>(`/deals/changes/${id}/apply`, { note }),
  rejectChange: (id: number, note: string) =>
    http.post<DealChange>(`/deals/changes/${id}/reject`, { note }),
}

/** Fen as yuan for display: 123456789 → "1,234,567.89". */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const whole = Math.floor(abs / 100).toLocaleString('en-US')
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`
}
