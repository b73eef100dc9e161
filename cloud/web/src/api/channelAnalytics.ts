import type { Download } from './http'
import { http } from './client'

/** 渠道业绩 and 多维查询 (cloud/channel/analytics_api.py). Dates are Beijing days. */
export type Group = 'channel_group' | 'agency' | 'team' | 'channel_kind'
export type Granularity = 'day' | 'week' | 'month'
export type Subject = 'agency' | 'broker' | 'consultant'
export type RankBy = 'referrals' | 'valid' | 'visited' | 'conversion_rate'
export type Key = number | string | null

export interface Stages {
  referrals: number
  valid: number
  visited: number
  attributed: number
  /** 认购: null until deals are recorded (`needs` holds 'deals'). */
  subscribed: number | null
  conversion_rate: number | null
}

export interface Performance {
  date_from: string
  date_to: string
  group: Group
  granularity: Granularity
  needs: string[]
  total: Stages
  items: (Stages & { key: Key; label: string })[]
  trend: (Stages & { bucket: string })[]
}

export interface RankingRow {
  rank: number
  key: Key
  label: string
  referrals: number
  valid: number
  visited: number
  attributed: number
  conversion_rate: number | null
}

export interface Ranking {
  subject: Subject
  by: RankBy
  items: RankingRow[]
}

export interface Range {
  project_id?: number
  date_from?: string
  date_to?: string
}

export interface Field {
  key: string
  title: string
}

export interface Fields {
  dimensions: Field[]
  measures: Field[]
  max_dimensions: number
}

export interface QueryFilters {
  date_from?: string
  date_to?: string
  project_ids?: number[]
  states?: string[]
  customer_groups?: string[]
  channel_kinds?: string[]
}

export interface QueryBody {
  dimensions: string[]
  measures: string[]
  filters: QueryFilters
  sort: { by: string; desc: boolean }[]
  page: number
  page_size: number
}

export interface QueryResult {
  columns: { key: string; title: string; kind: 'dimension' | 'measure' }[]
  items: Record<string, string | number | null>[]
  total: number
  page: number
  page_size: number
  needs: string[]
}

/** A query without its page, as a saved query keeps it. */
export type QueryDefinition = Omit<QueryBody, 'page' | 'page_size'>

export interface SavedQuery {
  name: string
  query: QueryDefinition
  created_at: string
  updated_at: string
}

const base = '/channel/analytics'
const saved = (name: string) => `${base}/saved-queries/${encodeURIComponent(name)}`

export const analyticsApi = {
  performance: (query: Range & { group: Group; granularity: Granularity }) =>
    http.get<Performance>(`${base}/performance`, { ...query }),
  rankings: (query: Range & { subject: Subject; by: RankBy; limit: number }) =>
    http.get<Ranking>(`${base}/rankings`, { ...query }),
  fields: () => http.get<Fields>(`${base}/fields`),
  query: (body: QueryBody) => http.post<QueryResult>(`${base}/query`, body),
  savedQueries: () => http.get<SavedQuery[]>(`${base}/saved-queries`),
  saveQuery: (name: string, query: QueryDefinition) => http.put<SavedQuery>(saved(name), query),
  runSaved: (name: string, page: number, pageSize: number) =>
    http.post<QueryResult>(`${saved(name)}/run`, { page, page_size: pageSize }),
  deleteSaved: (name: string) => http.request<void>(saved(name), { method: 'DELETE' }),
  exportQuery: (body: QueryBody): Promise<Download> =>
    http.download(`${base}/query/export`, undefined, { method: 'POST', body }),
}

export const GROUP_NAMES: Record<Group, string> = {
  channel_group: '渠道分组（团队 / 渠道公司 / 全民营销）',
  agency: '渠道公司',
  team: '渠道团队',
  channel_kind: '渠道类别',
}
export const SUBJECT_NAMES: Record<Subject, string> = { agency: '渠道公司', broker: '经纪人', consultant: '置业顾问' }
export const RANK_BY_NAMES: Record<RankBy, string> = {
  referrals: '报备数',
  valid: '有效报备',
  visited: '到访',
  conversion_rate: '转化率',
}
export const NEEDS_DEALS_TEXT = '认购数据待成交模块接入后统计（目前云端未记录成交）'

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)}%`
}
