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

/** A co-buyer (共同购买人) as the detail shows them: masked. */
export interface CoBuyer {
  name: string
  phone_masked: string
  customer_id: number | null
}

export type IdType = 'resident_id' | 'passport' | 'hk_macao_permit' | 'taiwan_permit'

export const ID_TYPES: [IdType, string][] = [
  ['resident_id', '居民身份证'], ['passport', '护照'],
  ['hk_macao_permit', '港澳居民来往内地通行证'], ['taiwan_permit', '台湾居民来往大陆通行证'],
]

/** The buyer's ID checked at the office: the number is kept only as its last 4. */
export interface IdCheck {
  id_type: IdType
  id_type_name: string
  id_masked: string
  checked_by: number
  checked_at: IsoDateTime
}

export interface DealDetail extends Deal {
  co_buyers: CoBuyer[]
  id_check: IdCheck | null
  signing_location: { lat: number; lng: number } | null
  /** Where the signing place came from: the phone's position, or the office (ADR 0060). */
  signing_place_source: 'device' | 'site' | null
  received_fen: number
  changes: DealChange[]
  payments: DealPayment[]
  /** The caller's lowest approvable price; null without approval rights. */
  lowest_approvable_fen: number | null
}

/** Payment methods (付款方式), as shared/payment.py. */
export const PAYMENT_METHODS: [string, string][] = [
  ['full', '一次性付款'], ['commercial_loan', '商业按揭'], ['provident_loan', '公积金贷款'],
  ['combined_loan', '组合贷款'], ['installment', '分期付款'],
]

export type ChangeKind = DealChange['kind']

export interface DealCreate {
  kind: 'pledge' | 'subscription'
  customer_id: number
  unit_id: number | null
  buyer_name: string
  payment_method: string
  price_fen: number
  amount_fen: number
  co_buyers?: { name: string; phone: string }[]
}

export interface ChangeRequest {
  kind: ChangeKind
  reason: string
  new_unit_id?: number
  new_buyer_name?: string
  new_price_fen?: number
}

/** The project's deal numbers (each a per-project setting with the rules page's default). */
export interface DealSettings {
  contract_days: number
  pick_hold_minutes: number
  draft_days: number
  manager_discount_pct: number
  director_discount_pct: number
}

export interface DealSettingsOut extends DealSettings {
  project_id: number
  updated_by: number | null
  updated_at: IsoDateTime | null
}

export const dealsApi = {
  create: (projectId: number, body: DealCreate) =>
    http.post<Deal>(`/deals/projects/${projectId}/deals`, body),
  submit: (id: number) => http.post<DealDetail>(`/deals/${id}/submit`),
  setCoBuyers: (id: number, coBuyers: { name: string; phone: string }[]) =>
    http.put<DealDetail>(`/deals/${id}/co-buyers`, { co_buyers: coBuyers }),
  checkId: (id: number, idType: IdType, idNumber: string) =>
    http.post<DealDetail>(`/deals/${id}/id-check`, { id_type: idType, id_number: idNumber }),
  cancel: (id: number, reason: string) => http.post<DealDetail>(`/deals/${id}/cancel`, { reason }),
  requestChange: (id: number, body: ChangeRequest) =>
    http.post<DealChange>(`/deals/${id}/changes`, body),
  settings: (projectId: number) => http.get<DealSettingsOut>(`/deals/projects/${projectId}/settings`),
  saveSettings: (projectId: number, body: DealSettings) =>
    http.put<DealSettingsOut>(`/deals/projects/${projectId}/settings`, body),
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
