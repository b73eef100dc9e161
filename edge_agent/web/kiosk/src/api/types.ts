// Bodies of the edge agent's kiosk API (edge_agent/kiosk/schemas.py, edge_agent/rota/schemas.py).
// Datetimes arrive as ISO strings in UTC; dates as YYYY-MM-DD (Asia/Shanghai days).

export type Classification = 'first_visit' | 'return_visit'
export type Outcome = 'created' | 'replayed' | 'same_day_existing'
export type VisitSource = 'natural' | 'channel' | 'referral_old_customer' | 'online' | 'other'

/** The visitor's acceptance of the notice; the edge refuses a registration without it. */
export interface ConsentIn {
  notice_version: string
  /** The tablet's clock (a hint: the edge records its own receipt time). */
  accepted_at: string
}

export interface VisitIn {
  project_id?: number | null
  phone: string
  name?: string | null
  party_size: number
  intent?: string | null
  source?: VisitSource
  consultant_id?: number | null
  consent: ConsentIn
  /** A broker's 扫码带看 code: the visit is the guided one of its referral. */
  qr_code?: string | null
  /** 无码带看: the referral of the broker the receptionist picked (GET /kiosk/guides). */
  guide_referral_id?: number | null
  profile?: VisitProfile | null
  /** “来过但忘了顾问”: received in turn, claimable by the earlier consultant for a while. */
  forgot_consultant?: boolean
}

/** A broker who may have brought the visitor: a live referral of the number (masked). */
export interface GuideCandidateOut {
  referral_id: number
  broker_id: number
  broker_name: string | null
  broker_phone_masked: string | null
  agency_name: string | null
  phone_masked: string
  masked: boolean
  referral_state: string
  protection_until: string | null
  created_at: string
}

/** The appliance's provisional 判客 answer; the cloud's decision wins. */
export interface ProvisionalAnswer {
  label: '首访' | '复访'
  first_visit: boolean
  owner_kind: 'channel' | 'natural' | 'none'
  owner_broker_id: number | null
  owner_reason: string
  protection_until: string | null
  brokers: { referral_id: number; broker_id: number; state: string; protection_until: string | null }[]
  rule_version: number
  referral_state: string | null
  referral_reason: string | null
  referral_reason_text: string | null
}

/** A code the appliance accepts (not used until the registration carries it). */
export interface QrCodeOut {
  referral_id: number
  broker_id: number
  project_id: number
  phone_masked: string | null
  referral_state: string | null
  protection_until: string | null
  expires_at: string
}

export interface VisitOut {
  id: string
  project_id: number
  phone_masked: string
  name_masked: string | null
  party_size: number
  intent: string | null
  source: VisitSource
  consultant_id: number | null
  occurred_at: string
  visit_date: string
  classification: Classification
  provisional: boolean
  visit_count: number
  owner_id: number | null
  owner_name: string | null
  seq: number
  broker_id: number | null
  referral_id: number | null
  guide_method?: 'qr' | 'manual' | null
  attribution: ProvisionalAnswer | null
  profile?: VisitProfile
  consumed_turn?: boolean | null
  stand_in_for?: number | null
  stand_in_share?: number | null
  claimable_until?: string | null
  phone_region?: string | null
}

export interface RegistrationOut extends VisitOut {
  outcome: Outcome
  same_day: boolean
  message: string
}

export interface CustomerLookupOut {
  project_id: number
  phone_masked: string
  known: boolean
  classification: Classification
  provisional: boolean
  visit_count: number
  visited_today: boolean
  owner_id: number | null
  owner_name: string | null
  last_visit_at: string | null
  protection_until: string | null
}

export interface ConsultantOut {
  id: number
  name: string
  roles: string[]
}

export interface ProjectOut {
  id: number
  name: string
  city: string | null
  is_default: boolean
}

export interface KioskStatusOut {
  /** stalled: connected but nothing moves; refused: the cloud takes nothing from this device */
  cloud_link: 'online' | 'offline' | 'stalled' | 'refused'
  storage_full: boolean
  sync_enabled: boolean
  backlog: number
  last_acked_seq: number
  last_ack_at: string | null
  oldest_unacked_at: string | null
  clock_skew_seconds: number | null
  down_cursor: number
}

export interface RotaConsultantOut {
  id: number
  name: string
  on_duty: boolean
  position: number | null
  checked_in_at: string | null
  checked_out_at: string | null
  received_today: number
  return_visits_today: number
  counted_today: number
  away_reason: AwayReason | null
  away_since: string | null
  skip_turns: number
  suspended_until: string | null
}

export type OrderMode = 'check_in' | 'fewest_new'

export interface RotaBoardOut {
  duty_date: string
  next_consultant_id: number | null
  order_mode: OrderMode
  work_start: string
  work_end: string
  in_working_hours: boolean
  consultants: RotaConsultantOut[]
}

export interface DutyChangeOut extends RotaBoardOut {
  changed: boolean
}

export type RotaAction =
  | 'check_in'
  | 'check_out'
  | 'turn_consumed'
  | 'turn_not_counted'
  | 'away'
  | 'back'
  | 'penalty'
  | 'turn_skipped'
  | 'suspended'
  | 'stand_in'
  | 'claimed'
  | 'settings_changed'

export type MakeUpReason = 'receiving' | 'washroom' | 'lunch' | 'business' | 'manager_approved'
export type DropReason = 'leave' | 'rest' | 'private'
export type AwayReason = MakeUpReason | DropReason

export type Gender = 'male' | 'female' | 'unknown'
export type Awareness =
  | 'passing_by'
  | 'outdoor_ad'
  | 'online'
  | 'friend'
  | 'channel'
  | 'call'
  | 'event'
  | 'old_customer'
  | 'other'
export type Purpose = 'own_use' | 'investment'
export type Grade = 'A' | 'B' | 'C' | 'D'

/** 客户画像：性别、认知途径、意向、等级（都可不填）。 */
export interface VisitProfile {
  gender?: Gender
  awareness?: Awareness
  layout?: string
  area_min?: number
  area_max?: number
  budget_min?: number
  budget_max?: number
  purpose?: Purpose
  grade?: Grade
}

export interface RotaEventOut {
  id: number
  occurred_at: string
  consultant_id: number
  consultant_name: string | null
  action: RotaAction
  actor: string
  reason: string
  visit_id: string | null
  position_before: number | null
  position_after: number | null
  away_reason: AwayReason | null
  detail: Record<string, unknown>
}

/** RFC 9457 problem+json as the agent renders it. */
export interface Problem {
  type?: string
  title?: string
  status?: number
  code?: string
  detail?: string
  errors?: { field: string; type?: string; msg?: string }[]
}
