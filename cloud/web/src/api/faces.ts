import { http } from './client'
import type { IsoDateTime } from './types'

/** A site's face settings (off until switched on with signage, area and notice). */
export interface SiteFaces {
  site_id: string
  enabled: boolean
  signage_text: string | null
  capture_area: string | null
  notice_version: string | null
  crop_retention_days: number
  changed_by: number | null
  changed_at: IsoDateTime | null
}

export interface SiteFacesIn {
  enabled: boolean
  signage_text?: string | null
  capture_area?: string | null
  notice_version?: string | null
  crop_retention_days?: number
}

export type FaceCountLevel = 'ok' | 'warning' | 'filing'

/** Distinct people with face data stored on the deployment's appliances. */
export interface FaceCount {
  persons: number
  counted_at: IsoDateTime
  warning_at: number
  filing_at: number
  level: FaceCountLevel
  warning_since: IsoDateTime | null
  filing_since: IsoDateTime | null
}

export type FaceErasureState = 'pending' | 'erased' | 'overdue'

export interface FaceErasure {
  site_id: string
  request_id: string
  person_ref: string
  sent_at: IsoDateTime
  due_at: IsoDateTime
  erased_at: IsoDateTime | null
  state: FaceErasureState
}

export const facesApi = {
  site: (siteId: string) => http.get<SiteFaces>(`/faces/sites/${encodeURIComponent(siteId)}`),
  saveSite: (siteId: string, body: SiteFacesIn) =>
    http.put<SiteFaces>(`/faces/sites/${encodeURIComponent(siteId)}`, body),
  count: () => http.get<FaceCount>('/faces/count'),
  erasures: (requestId: number) => http.get<FaceErasure[]>(`/faces/erasures/${requestId}`),
}

export const FACE_COUNT_LEVELS: Record<FaceCountLevel, { text: string; type: 'success' | 'warning' | 'danger' }> = {
  ok: { text: '正常', type: 'success' },
  warning: { text: '已达预警线', type: 'warning' },
  filing: { text: '已达备案线：30 个工作日内向省级网信部门备案', type: 'danger' },
}

export const FACE_ERASURE_STATES: Record<FaceErasureState, { text: string; type: 'info' | 'success' | 'danger' }> = {
  pending: { text: '待案场回执', type: 'info' },
  erased: { text: '案场已删除', type: 'success' },
  overdue: { text: '超期未回执', type: 'danger' },
}
