// 带看记录: guided-visit attempts (scans, refusals, replays, hand-picked brokers) and the
// appliances' provisional answers beside the cloud's.
import { http } from './client'
import type { IsoDateTime } from './types'

export type GuideResult = 'accepted' | 'forged' | 'expired' | 'replayed' | 'duplicate' | 'refused'
export type GuideMethod = 'qr' | 'manual'
type State = 'pending' | 'confirmed' | 'invalid' | 'expired'

export interface GuidedVisit {
  id: number
  scanned_at: IsoDateTime
  received_at: IsoDateTime
  site_id: string
  project_id: number
  project_name: string | null
  referral_id: number | null
  phone_masked: string | null
  broker_id: number | null
  broker_name: string | null
  method: GuideMethod
  outcome: 'accepted' | 'refused' | 'replayed'
  result: GuideResult
  reason_code: string
  visit_id: string | null
  edge_state: State | null
  edge_reason: string | null
  cloud_state: State | null
  cloud_reason: string | null
  differs: boolean
}

export interface ProvisionalAnswer {
  first_visit: boolean
  owner_kind: 'channel' | 'natural' | 'none'
  owner_broker_id: number | null
  brokers: { referral_id: number; broker_id: number; state: 'pending' | 'confirmed' }[]
  rule_version: number
}

export interface ProvisionalCompare {
  visit_id: string
  occurred_at: IsoDateTime
  site_id: string
  project_id: number
  project_name: string | null
  phone_masked: string
  source: string
  broker_id: number | null
  guide_method: GuideMethod | null
  edge: ProvisionalAnswer
  cloud: ProvisionalAnswer | null
  differs: boolean
  differences: string[]
}

export interface GuidedQuery {
  project_id?: number
  broker_id?: number
  result?: GuideResult
  method?: GuideMethod
  before_id?: number
  limit?: number
}

export const guidedApi = {
  guidedVisits: (query: GuidedQuery) => http.get<GuidedVisit[]>('/channel/guided-visits', { ...query }),
  provisionalAnswers: (query: { project_id?: number; differs?: boolean; before?: string; limit?: number }) =>
    http.get<ProvisionalCompare[]>('/channel/provisional-answers', { ...query }),
}

export const GUIDE_RESULT_NAMES: Record<GuideResult, string> = {
  accepted: '有效',
  forged: '伪造',
  expired: '已过期',
  replayed: '本设备重复使用',
  duplicate: '跨设备重复使用',
  refused: '其他拒收',
}
export const GUIDE_RESULT_TAG: Record<GuideResult, 'success' | 'danger' | 'warning' | 'info'> = {
  accepted: 'success',
  forged: 'danger',
  expired: 'info',
  replayed: 'warning',
  duplicate: 'danger',
  refused: 'info',
}
export const GUIDE_METHOD_NAMES: Record<GuideMethod, string> = { qr: '扫码带看', manual: '前台手工指定' }
