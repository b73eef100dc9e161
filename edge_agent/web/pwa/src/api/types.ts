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
  /** Short-lived (15 min); no cloud refresh token is handed to script (ADR 0019). */
  cloud_access_token: string
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

/** What the phone sends, to the edge or to the cloud; `id` is the Idempotency-Key. The
 * customer is named by `visit_id`, by `phone` in `project_id`, or — for a customer this
 * appliance has never seen, so cloud only — by the cloud's `customer_id`. */
export interface FollowUpBody {
  id: string
  visit_id?: string
  project_id?: number
  phone?: string
  customer_id?: number
  kind: FollowUpKind
  reached: boolean
  note: string
  next_at?: string
  occurred_at: string
}

/** 来电登记 (ADR 0056): a call the consultant answered. `occurred_at` is when the phone
 * saved it: a call queued while the appliance was away still counts on its own day. */
export interface CallBody {
  id: string
  phone: string
  name: string | null
  awareness: string | null
  project_id: number | null
  occurred_at: string
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

export type FollowState = 'ok' | 'due_soon' | 'overdue'

export const FOLLOW_STATE_LABELS: Record<FollowState, string> = {
  ok: '正常',
  due_soon: '待跟进',
  overdue: '逾期',
}

/** One of my customers, as the appliance sees it (GET /staff/customers). */
export interface MyCustomer {
  key: string
  project_id: number
  phone_masked: string
  name_masked: string | null
  visit_count: number
  last_visit_at: string | null
  last_effective_at: string | null
  due_day: string | null
  follow_state: FollowState | null
  protection_until: string | null
  customer_ref: string | null
  provisional: boolean
  first_visit_at: string | null
  return_visits: number
  status: Stage
  ownership: Ownership
  payment_method: PaymentMethod | null
  source: VisitSource | null
  profile: VisitProfile
  phone_region: string | null
}

// 客户360: the cloud's sales stage, ownership state and the deal's payment method (down-feed),
// and the profile reception recorded at the visits (the latest value of each field).
export type Stage = 'visited' | 'pledged' | 'subscribed' | 'to_sign' | 'signed' | 'void' | 'refunded'
export type Ownership = 'owned' | 'overdue' | 'public' | 'invalid'
// The codes of shared/payment.py (the cloud's deal documents).
export type PaymentMethod = 'full' | 'commercial_loan' | 'provident_loan' | 'combined_loan' | 'installment'
export type VisitSource = 'natural' | 'channel' | 'referral_old_customer' | 'online' | 'other'
export type Gender = 'male' | 'female' | 'unknown'

export interface VisitProfile {
  gender: Gender | null
  awareness: string | null
  layout: string | null
  area_min: number | null
  area_max: number | null
  budget_min: number | null
  budget_max: number | null
  purpose: 'own_use' | 'investment' | null
  grade: 'A' | 'B' | 'C' | 'D' | null
}

export interface HistoryEntry {
  kind: 'visit' | 'follow_up'
  at: string
  consultant_id: number | null
  visit_id: string | null
  party_size: number | null
  classification: 'first_visit' | 'return_visit' | null
  follow_up_id: string | null
  follow_up_kind: FollowUpKind | null
  reached: boolean | null
  effective: boolean | null
  note: string | null
}

export interface CustomerHistory {
  customer: MyCustomer
  history: HistoryEntry[]
}

export interface Revealed {
  phone: string
  name: string | null
}

/** A follow-up as the cloud lists it (GET /api/v1/follow-ups?customer_id=). */
export interface CloudFollowUp {
  id: string
  visit_id: string | null
  consultant_id: number
  consultant_name: string | null
  kind: FollowUpKind
  reached: boolean
  effective: boolean
  note: string
  occurred_at: string
}

/** A unit of the cloud's 销控表 as a consultant sees it (released units, no 底价). */
export interface GridUnit {
  id: number
  room: string
  floor: number
  layout: string
  area_centi: number
  list_price_fen: number
  state: string
  hold_until: string | null
}

export interface UnitGrid {
  project_id: number
  version: number
  colours: Record<string, string>
  states: { code: string; name: string }[]
  buildings: { id: number; name: string; floors: { floor: number; units: GridUnit[] }[] }[]
}

// A sales manager's reception (GET /staff/reception/board, /claimable).
export type PenaltyKind = 'refusal' | 'skipped_question' | 'cherry_picking'

export interface RotaConsultant {
  id: number
  name: string
  on_duty: boolean
  position: number | null
  received_today: number
  return_visits_today: number
  away_reason: string | null
  skip_turns: number
  suspended_until: string | null
}

export interface RotaBoard {
  duty_date: string
  next_consultant_id: number | null
  in_working_hours: boolean
  consultants: RotaConsultant[]
}

/** The HQ console's last change that replaced this office's reception settings. */
export interface HqChange {
  changed_at: string
  changed_by_name: string | null
  fields: string[]
}

export interface PenaltyOut {
  kind: PenaltyKind
  suspended_until: string | null
  skip_turns: number | null
}

/** A visit as the appliance answers it (the claimable list). */
export interface ClaimableVisit extends Visit {
  claimable_until: string | null
}

/** 销售分析 from the cloud (cloud/sales/analysis_api.py): one group's figures. */
export interface AnalysisFigures {
  key: number | string | null
  label: string
  visits: number
  first_visits: number
  call_visits: number
  calls: number | null
  call_to_visit: number | null
  subscriptions: number
  visit_to_deal: number | null
  contracts: number
  returns: number
  swaps: number
  net_contracts: number
  net_contract_amount_fen: number
}

export interface AnalysisFunnel {
  key: number | string | null
  label: string
  stored: number
  followed: number
  bought: number
  deal_rate: number | null
}

export interface AnalysisSellThrough {
  key: number | string | null
  label: string
  released: number
  sold: number
  sell_through: number | null
}

export interface AnalysisGrouped<Row> {
  items: Row[]
  total: Row
}

export type AnalysisGroupBy = 'team' | 'product' | 'consultant' | 'channel'

/** A face consent given at one registration (edge_agent/faces/staff_api.py). */
export type FaceConsentState = 'linked' | 'waiting' | 'withdrawn'

export interface FaceConsentEntry {
  visit_id: string
  project_id: number
  visit_date: string
  notice_version: string
  recorded_at: string
  state: FaceConsentState
}

export interface FaceConsents {
  phone_masked: string
  consents: FaceConsentEntry[]
}

export interface FaceConsentWithdrawn {
  withdrawn: number
  erased: number
}

// 交易单据 from the cloud (cloud/deals/schemas.py); money in integer fen.
export type DealKind = 'pledge' | 'subscription' | 'contract'
export type DealStatus =
  | 'draft'
  | 'submitted'
  | 'approved'
  | 'converted'
  | 'change_pending'
  | 'overdue'
  | 'voided'
  | 'cancelled'
  | 'returned'
export type ChangeKind = 'cancel' | 'swap' | 'rename' | 'price'

export interface Deal {
  id: number
  project_id: number
  customer_id: number
  customer_name_masked: string | null
  customer_phone_masked: string
  unit_id: number | null
  unit_label: string | null
  parent_id: number | null
  kind: DealKind
  kind_name: string
  status: DealStatus
  status_name: string
  buyer_name: string
  payment_method: PaymentMethod
  payment_method_name: string
  price_fen: number
  list_price_fen: number
  floor_price_fen: number | null
  amount_fen: number
  carried_fen: number
  consultant_id: number
  consultant_name: string | null
  created_by: number
  created_at: string
  submitted_at: string | null
  approved_at: string | null
  contract_due_at: string | null
  decision_note: string
  ended_reason: string
}

export interface DealChange {
  id: number
  deal_id: number
  kind: ChangeKind
  kind_name: string
  new_unit_id: number | null
  new_price_fen: number | null
  renamed: boolean
  reason: string
  status: 'pending' | 'applied' | 'rejected'
  requested_by: number
  requested_at: string
  decided_at: string | null
  decision_note: string
}

export interface DealPayment {
  id: number
  amount_fen: number
  source: 'buyer' | 'bank'
  received_at: string
  note: string
}

/** Degrees, WGS-84 (what the Geolocation API reports and the cloud stores). */
export interface LatLng {
  lat: number
  lng: number
}

export interface DealDetail extends Deal {
  /** A contract's signing place: its position, and whether the phone's or the office's. */
  signing_location: LatLng | null
  signing_place_source: 'device' | 'site' | null
  received_fen: number
  changes: DealChange[]
  payments: DealPayment[]
  lowest_approvable_fen: number | null
}

export interface DealBody {
  kind: 'pledge' | 'subscription'
  customer_id: number
  unit_id: number | null
  buyer_name: string
  payment_method: PaymentMethod
  price_fen: number
  amount_fen: number
}

export interface ConvertBody {
  unit_id?: number
  payment_method: PaymentMethod
  price_fen?: number
  amount_fen: number
  /** 认购 → 签约 only: the phone's position (source `device`), or `site` without one. */
  signing_location?: LatLng
  signing_place_source?: 'device' | 'site'
}

export interface ChangeBody {
  kind: ChangeKind
  reason: string
  new_unit_id?: number
  new_buyer_name?: string
  new_price_fen?: number
}

/** A customer of the 公客池 as the cloud lists them (GET /ownership/customers). */
export interface PoolCustomer {
  customer_id: number
  project_id: number
  name_masked: string | null
  phone_masked: string
  stage: Stage
  ownership: Ownership
  previous_owner_name: string | null
  last_visit_at: string
}

export interface PoolPage {
  items: PoolCustomer[]
  total: number
}

export type PickupStatus = 'pending' | 'approved' | 'refused'

/** A request to take a customer from the 公客池 (a sales director decides). */
export interface Pickup {
  id: number
  customer_id: number
  project_id: number
  phone_masked: string
  requester_id: number
  requester_name: string
  status: PickupStatus
  reason: string | null
  decided_by_name: string | null
  decided_at: string | null
  decision_note: string | null
  created_at: string
}
