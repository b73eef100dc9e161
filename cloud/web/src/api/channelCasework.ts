import { http } from './client'
import type { IsoDateTime } from './types'

export type CaseState = 'open' | 'confirmed' | 'dismissed'
export type Severity = 'flag' | 'review' | 'block'
export type AppealState = 'submitted' | 'under_review' | 'upheld' | 'rejected' | 'withdrawn'
export type ReferralState = 'pending' | 'confirmed' | 'invalid' | 'expired'

export interface TimelineItem {
  at: IsoDateTime
  kind: string
  text: string
}

export interface RiskCase {
  id: number
  project_id: number
  /** null: a check about a site and day, not a referral (visits never registered). */
  referral_id: number | null
  broker_id: number | null
  /** `site:YYYY-MM-DD` for such a case. */
  subject_key: string | null
  check_code: string
  check_title: string
  stage: string
  severity: Severity
  summary: string
  state: CaseState
  reviewer_id: number | null
  comment: string | null
  voided: boolean
  created_at: IsoDateTime
  decided_at: IsoDateTime | null
}

export interface RiskCaseDetail extends RiskCase {
  evidence: { timeline?: TimelineItem[] } & Record<string, unknown>
  referral_phone_masked: string | null
  referral_state: ReferralState | null
}

export interface Dashboard {
  open: { check_code: string; project_id: number; count: number }[]
  trend: { day: string; count: number }[]
  checks: Record<string, string>
}

export interface Evidence {
  id: number
  filename: string
  size: number
  content_type: string
  created_at: IsoDateTime
}

export interface Appeal {
  id: number
  referral_id: number
  project_id: number
  broker_id: number
  kind: 'referral' | 'deal'
  reason: string
  state: AppealState
  appealed_state: string
  appealed_reason: string
  deadline: IsoDateTime
  decision_comment: string | null
  created_at: IsoDateTime
  decided_at: IsoDateTime | null
}

export interface AppealDetail extends Appeal {
  evidence: Evidence[]
  override: { state: string; engine_state: string; engine_reason: string; comment: string } | null
  referral_phone_masked: string
  referral_state: ReferralState
}

export interface AppealDecision {
  outcome: 'upheld' | 'rejected'
  comment: string
  new_state?: ReferralState | null
}

export type RiskAction = 'off' | 'flag' | 'review' | 'block'

export interface CheckParam {
  name: string
  label: string
  default: number
  min: number
  max: number
}

/** One check of a project's risk policy (cloud/channel/risk_api.py). */
export interface RiskCheck {
  code: string
  title: string
  stage: string
  status: string
  batched: boolean
  action: RiskAction
  params: Record<string, number>
  default_action: RiskAction
  actions: RiskAction[]
  param_specs: CheckParam[]
  faces: boolean
}

export interface RiskPolicy {
  project_id: number
  appeal_deadline_days: number
  checks: RiskCheck[]
}

export interface RiskPolicyChange {
  appeal_deadline_days?: number
  checks?: Record<string, { action: RiskAction; params: Record<string, number> }>
}

const base = '/channel'

export const caseworkApi = {
  dashboard: () => http.get<Dashboard>(`${base}/risk/dashboard`),
  cases: (query: { state?: CaseState; check_code?: string }) => http.get<RiskCase[]>(`${base}/risk/cases`, { ...query }),
  getCase: (id: number) => http.get<RiskCaseDetail>(`${base}/risk/cases/${id}`),
  reviewCase: (id: number, body: { outcome: 'confirmed' | 'dismissed'; comment: string; void_attribution: boolean }) =>
    http.post<RiskCaseDetail>(`${base}/risk/cases/${id}/review`, body),
  riskPolicy: (projectId: number) => http.get<RiskPolicy>(`${base}/projects/${projectId}/risk-policy`),
  saveRiskPolicy: (projectId: number, body: RiskPolicyChange) =>
    http.put<RiskPolicy>(`${base}/projects/${projectId}/risk-policy`, body),
  appeals: (query: { state?: AppealState }) => http.get<Appeal[]>(`${base}/appeals`, { ...query }),
  getAppeal: (id: number) => http.get<AppealDetail>(`${base}/appeals/${id}`),
  startReview: (id: number) => http.post<Appeal>(`${base}/appeals/${id}/review`, {}),
  decide: (id: number, body: AppealDecision) => http.post<AppealDetail>(`${base}/appeals/${id}/decision`, body),
  evidence: (appealId: number, evidenceId: number) => http.download(`${base}/appeals/${appealId}/evidence/${evidenceId}`),
}

export const CASE_STATE_NAMES: Record<CaseState, string> = { open: '待复核', confirmed: '已确认', dismissed: '已排除' }
export const SEVERITY_NAMES: Record<Severity, string> = { flag: '标记', review: '需复核', block: '拦截' }
export const APPEAL_STATE_NAMES: Record<AppealState, string> = {
  submitted: '已提交',
  under_review: '审核中',
  upheld: '申诉成立',
  rejected: '已驳回',
  withdrawn: '已撤回',
}
export const APPEAL_KIND_NAMES = { referral: '报备申诉', deal: '成交申诉' } as const
export const REFERRAL_STATE_NAMES: Record<ReferralState, string> = {
  pending: '待确认',
  confirmed: '有效',
  invalid: '无效',
  expired: '已失效',
}
