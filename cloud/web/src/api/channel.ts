import { http } from './client'
import type { Download } from './http'
import type { IsoDateTime } from './types'

export type AgencyStatus = 'invited' | 'pending' | 'active' | 'frozen'
export type BrokerStatus = 'pending' | 'active' | 'frozen'
export type ReferralState = 'pending' | 'confirmed' | 'invalid' | 'expired'

export interface Agency {
  id: number
  name: string
  status: AgencyStatus
  rating: number | null
  /** 渠道团队: the rule set's team overrides apply to its referrals. */
  team: string | null
  invite_code: string
  created_at: IsoDateTime
  updated_at: IsoDateTime
}

export interface Broker {
  id: number
  user_id: number
  agency_id: number | null
  kind: 'agency' | 'referrer'
  status: BrokerStatus
  rating: number | null
  phone_masked: string
  display_name: string | null
  created_at: IsoDateTime
}

/** A status move and/or a rating (PATCH of agencies and brokers). */
export interface PartnerUpdate {
  status?: 'active' | 'frozen'
  rating?: number
}

/** RuleSet parameters as JSON (docs/attribution.md); durations are ISO 8601. */
export type RuleParameters = Record<string, unknown>

export interface RuleVersion {
  project_id: number
  version: number
  effective_from: IsoDateTime
  rules: RuleParameters
}

export interface Referral {
  id: number
  project_id: number
  broker_id: number
  agency_id: number | null
  customer_group: 'individual' | 'corporate'
  customer_name: string | null
  phone_masked: string
  state: ReferralState
  reason_code: string
  reason: string
  rule_version: number
  protection_until: IsoDateTime | null
  created_at: IsoDateTime
  decided_at: IsoDateTime
}

export interface ReferralQuery {
  project_id?: number
  state?: ReferralState
  broker_id?: number
  agency_id?: number
  reason_code?: string
  before_id?: number
  limit?: number
}

export interface Reason {
  code: string
  text: string
  evidence: string[]
  rule_version: number
}

export interface Owner {
  kind: 'channel' | 'natural' | 'none'
  broker_id: number | null
  broker_name: string | null
  agency_id: number | null
  agency_name: string | null
  referral_id: number | null
  stage: 'referral' | 'visit' | 'deal' | null
  protection_until: IsoDateTime | null
  consultant_id: number | null
  consultant_name: string | null
  consultant_protection_until: IsoDateTime | null
  in_public_pool: boolean
  reason: Reason
}

export interface RuleChange {
  field: string
  before: unknown
  after: unknown
}

export interface Fact {
  broker_id: number | null
  broker_name: string | null
  agency_id: number | null
  agency_name: string | null
  actor_name: string | null
  phone_masked: string | null
  customer_name: string | null
  guided: boolean | null
  effective: boolean | null
  stage: string | null
  approved: boolean | null
  rule_version: number | null
  rule_changes: RuleChange[] | null
  override_state?: ReferralState | null
  override_source?: 'appeal' | 'risk_case' | null
  override_source_id?: number | null
  comment?: string | null
}

export interface Step {
  at: IsoDateTime
  step_id: string
  kind: string
  title: string
  fact: Fact
  changes: { referral_id: number; state: ReferralState; state_text: string; reason: Reason }[]
  owner: Owner
}

export interface ReferralStateOut {
  referral_id: number
  broker_id: number
  broker_name: string | null
  agency_id: number | null
  agency_name: string | null
  phone_masked: string
  state: ReferralState
  state_text: string
  reason: Reason
  submitted_at: IsoDateTime
  protection_until: IsoDateTime | null
}

export interface Timeline {
  phone_masked: string
  customer_id: number | null
  rule_version: number
  owner: Owner
  referrals: ReferralStateOut[]
  visit_count: number
  steps: Step[]
}

export interface Attribution {
  project_id: number
  as_of: IsoDateTime
  rule_versions: { version: number; effective_from: IsoDateTime }[]
  timelines: Timeline[]
}

export interface AttributionLookup {
  phone?: string
  referral_id?: number
  customer_id?: number
}

export interface CustomerDiff {
  phone_masked: string
  customer_id: number | null
  referral_id: number | null
  owner_changed: boolean
  owner_before: Owner
  owner_after: Owner
  referrals: {
    referral_id: number
    broker_id: number
    broker_name: string | null
    before_state: ReferralState
    before: Reason
    after_state: ReferralState
    after: Reason
    before_protection_until: IsoDateTime | null
    after_protection_until: IsoDateTime | null
    /** Only the window moved: same state and reason, another end. */
    window_changed: boolean
  }[]
}

export interface WhatIf {
  project_id: number
  as_of: IsoDateTime
  replayed_from: IsoDateTime
  days: number
  proposed_version: number
  checked: number
  limit: number
  truncated: boolean
  changed: number
  owner_changed: number
  referrals_changed: number
  windows_changed: number
  customers: CustomerDiff[]
}

const base = '/channel'

export const channelApi = {
  agencies: () => http.get<Agency[]>(`${base}/agencies`),
  inviteAgency: (name: string) => http.post<Agency>(`${base}/agencies`, { name }),
  updateAgency: (id: number, body: PartnerUpdate) => http.patch<Agency>(`${base}/agencies/${id}`, body),
  brokers: (agencyId?: number) => http.get<Broker[]>(`${base}/brokers`, { agency_id: agencyId }),
  updateBroker: (id: number, body: PartnerUpdate) => http.patch<Broker>(`${base}/brokers/${id}`, body),
  rules: (projectId: number) => http.get<RuleVersion[]>(`${base}/projects/${projectId}/rules`),
  publishRules: (projectId: number, rules: RuleParameters, effectiveFrom: string | null) =>
    http.post<RuleVersion>(`${base}/projects/${projectId}/rules`, { rules, effective_from: effectiveFrom }),
  referrals: (query: ReferralQuery) => http.get<Referral[]>(`${base}/referrals`, { ...query }),
  attribution: (projectId: number, lookup: AttributionLookup) =>
    http.get<Attribution>(`${base}/projects/${projectId}/attribution`, { ...lookup }),
  /** 判客依据 as an XLSX file (audited as an export). */
  exportAttribution: (projectId: number, lookup: AttributionLookup): Promise<Download> =>
    http.download(`${base}/projects/${projectId}/attribution/export`, { ...lookup }),
  /** effectiveFrom: a version to be scheduled (null: in force from the window's start). */
  whatIf: (projectId: number, rules: RuleParameters, days: number, effectiveFrom: string | null = null) =>
    http.post<WhatIf>(`${base}/projects/${projectId}/rules/what-if`,
      { rules, days, ...(effectiveFrom ? { effective_from: effectiveFrom } : {}) }),
  /** The developer's review of a referral waiting for one (报备审核). */
  review: (referralId: number, approved: boolean, comment: string) =>
    http.post<Referral>(`${base}/referrals/${referralId}/review`, { approved, comment }),
  /** The agencies that cooperate on a project; none: open to every agency. */
  cooperation: (projectId: number) =>
    http.get<{ project_id: number; agency_ids: number[] }>(`${base}/projects/${projectId}/cooperation`),
  setCooperation: (projectId: number, agencyIds: number[]) =>
    http.put<{ project_id: number; agency_ids: number[] }>(`${base}/projects/${projectId}/cooperation`,
      { agency_ids: agencyIds }),
}
