import { http } from './client'
import type { IsoDate, IsoDateTime } from './types'

export type RequestKind = 'access' | 'copy' | 'correction' | 'deletion'
export type RequestStatus = 'open' | 'completed' | 'refused'
export type RequestChannel = 'onsite' | 'phone' | 'email' | 'letter' | 'online'
export type RefusalCode = 'identity_unverified' | 'legal_retention' | 'no_data' | 'unfounded'

export interface SubjectRequest {
  id: number
  kind: RequestKind
  status: RequestStatus
  channel: RequestChannel
  phone_masked: string
  received_at: IsoDateTime
  /** The end of the 15th working day after receipt. */
  due_at: IsoDateTime
  overdue: boolean
  created_by: number
  handled_by: number | null
  closed_at: IsoDateTime | null
  refusal_code: RefusalCode | null
  resolution: string | null
}

export interface SubjectRequestDetail extends SubjectRequest {
  detail: string | null
}

export interface SubjectRequestIn {
  kind: RequestKind
  phone: string
  channel: RequestChannel
  detail?: string
}

export interface SubjectCustomer {
  customer_id: number
  project_id: number
  project_name: string
  phone: string
  name: string | null
  status: string
  first_visit_at: IsoDateTime
  last_visit_at: IsoDateTime
  visits: {
    id: string; site_id: string; visit_date: IsoDate; occurred_at: IsoDateTime; party_size: number; source: string
    intent: string | null; consent_notice_version: string | null; consent_method: string | null
    consent_accepted_at: IsoDateTime | null
  }[]
  follow_ups: { id: string; kind: string; reached: boolean; note: string; occurred_at: IsoDateTime }[]
}

/** A channel referral (报备) that named the subject by their full number. */
export interface SubjectReferral {
  id: number
  project_id: number
  project_name: string
  agency_name: string | null
  name: string
  phone: string
  state: string
  reason_code: string
  created_at: IsoDateTime
}

/** A form the subject left on a broker's share page (线索), by their full number. */
export interface SubjectLead {
  id: number
  project_id: number
  project_name: string
  agency_name: string | null
  name: string
  phone: string
  consent_version: string
  created_at: IsoDateTime
  referral_id: number | null
}

/** A call the subject made to a project, registered at its sales office (来电登记). */
export interface SubjectCall {
  id: string
  project_id: number
  project_name: string
  phone: string
  name: string | null
  awareness: string | null
  awareness_name: string
  occurred_at: IsoDateTime
}

/** A face of the subject a site keeps (by separate consent); never an image. */
export interface SubjectFace {
  customer_id: number
  site_id: string
  person_ref: string
  consents: { site_id: string; visit_id: string; granted: boolean; notice_version: string; method: string; recorded_at: IsoDateTime }[]
  sightings: number
  first_seen_at: IsoDateTime | null
  last_seen_at: IsoDateTime | null
}

export interface SubjectData {
  request_id: number
  customers: SubjectCustomer[]
  referrals: SubjectReferral[]
  leads: SubjectLead[]
  calls: SubjectCall[]
  faces: SubjectFace[]
}

export interface Erasure {
  request: SubjectRequest
  customers_erased: number
  visits_kept_anonymous: number
  follow_up_notes_cleared: number
}

const base = '/privacy/requests'

export const privacyApi = {
  list: (query: { status?: RequestStatus; overdue?: boolean }) => http.get<SubjectRequest[]>(base, { ...query }),
  get: (id: number) => http.get<SubjectRequestDetail>(`${base}/${id}`),
  create: (body: SubjectRequestIn) => http.post<SubjectRequestDetail>(base, body),
  subjectData: (id: number) => http.post<SubjectData>(`${base}/${id}/subject-data`, {}),
  correct: (id: number, name: string) => http.post<SubjectRequest>(`${base}/${id}/correct`, { name }),
  erase: (id: number) => http.post<Erasure>(`${base}/${id}/erase`, {}),
  complete: (id: number, resolution: string) => http.post<SubjectRequest>(`${base}/${id}/complete`, { resolution }),
  refuse: (id: number, code: RefusalCode, reason: string) => http.post<SubjectRequest>(`${base}/${id}/refuse`, { code, reason }),
}

export const KIND_NAMES: Record<RequestKind, string> = {
  access: '查阅',
  copy: '复制',
  correction: '更正',
  deletion: '删除',
}

export const STATUS_NAMES: Record<RequestStatus, string> = {
  open: '办理中',
  completed: '已办结',
  refused: '已拒绝',
}

export const CHANNEL_NAMES: Record<RequestChannel, string> = {
  onsite: '现场',
  phone: '电话',
  email: '邮件',
  letter: '信函',
  online: '线上',
}

export const REFUSAL_NAMES: Record<RefusalCode, string> = {
  identity_unverified: '身份未核实',
  legal_retention: '依法需保留',
  no_data: '无该人信息',
  unfounded: '请求无依据',
}
