import type { Download } from './http'
import { http } from './client'

/**
 * 销售分析 (cloud/sales/analysis_api.py). Dates are Beijing days; money in fen. Each
 * figure's definition is in the API schema and docs/sales-analysis.md.
 */
export type GroupBy = 'team' | 'product' | 'consultant' | 'channel'
export type SellThroughBy = 'batch' | 'product' | 'team'
export type IntentionField =
  | 'grade'
  | 'purpose'
  | 'layout'
  | 'area'
  | 'budget'
  | 'awareness'
  | 'gender'
  | 'region'
  | 'source'
export type Key = number | string | null

export interface FigureRow {
  key: Key
  label: string
  visits: number
  first_visits: number
  return_visits: number
  call_visits: number
  /** Registered calls (来电登记); null in a product or channel group (a call has neither). */
  calls: number | null
  call_to_visit: number | null
  pledges: number
  /** Fractional by consultant: a stand-in's share of a same-day subscription (ADR 0056). */
  subscriptions: number
  subscription_amount_fen: number
  visit_to_deal: number | null
  contracts: number
  contract_amount_fen: number
  returns: number
  returned_amount_fen: number
  swaps: number
  net_contracts: number
  net_contract_amount_fen: number
}

export interface FunnelRow {
  key: Key
  label: string
  stored: number
  followed: number
  bought: number
  follow_rate: number | null
  deal_rate: number | null
}

export interface SellThroughRow {
  key: Key
  label: string
  released: number
  sold: number
  sold_area_centi: number
  sell_through: number | null
}

export interface Grouped<Row> {
  group_by: string | null
  date_from?: string
  date_to?: string
  items: Row[]
  total: Row
}

export interface IntentionCell {
  key: Key
  label: string
  value: string | null
  value_label: string
  visits: number
}

export interface Intentions {
  group_by: GroupBy | null
  field: IntentionField
  items: IntentionCell[]
}

export interface Window {
  project_id?: number
  date_from?: string
  date_to?: string
  group_by?: GroupBy
}

const base = '/sales/analysis'

export const salesAnalysisApi = {
  figures: (query: Window) => http.get<Grouped<FigureRow>>(`${base}/figures`, { ...query }),
  funnel: (query: Window) => http.get<Grouped<FunnelRow>>(`${base}/funnel`, { ...query }),
  sellThrough: (query: { project_id?: number; group_by: SellThroughBy }) =>
    http.get<Grouped<SellThroughRow>>(`${base}/sell-through`, { ...query }),
  intentions: (query: Window & { field: IntentionField }) =>
    http.get<Intentions>(`${base}/intentions`, { ...query }),
  exportFigures: (query: Window): Promise<Download> => http.download(`${base}/figures/export`, { ...query }),
}

export const GROUP_BY_NAMES: Record<GroupBy, string> = {
  team: '销售团队（案场）',
  product: '产品（户型）',
  consultant: '置业顾问',
  channel: '渠道（来源）',
}

export const SELL_THROUGH_NAMES: Record<SellThroughBy, string> = {
  batch: '推盘批次',
  product: '户型',
  team: '案场',
}

export const INTENTION_NAMES: Record<IntentionField, string> = {
  grade: '客户等级',
  purpose: '购房用途',
  layout: '意向户型',
  area: '意向面积',
  budget: '预算',
  awareness: '认知途径',
  gender: '性别',
  region: '号码归属地',
  source: '来访来源',
}

export function rate(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(1)}%`
}

/** Money in fen as 万元 with two decimals: the unit managers read sales in. */
export function wan(fen: number): string {
  return (fen / 1_000_000).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

/** Rows of a cross table from intention cells: one per group, a column per value. */
export function crossTable(cells: IntentionCell[]): {
  values: { value: string | null; label: string }[]
  rows: { key: Key; label: string; counts: Record<string, number>; total: number }[]
} {
  const values = new Map<string, { value: string | null; label: string }>()
  const rows = new Map<string, { key: Key; label: string; counts: Record<string, number>; total: number }>()
  for (const cell of cells) {
    const column = String(cell.value)
    if (!values.has(column)) values.set(column, { value: cell.value, label: cell.value_label })
    const id = String(cell.key)
    const row = rows.get(id) ?? { key: cell.key, label: cell.label, counts: {}, total: 0 }
    row.counts[column] = (row.counts[column] ?? 0) + cell.visits
    row.total += cell.visits
    rows.set(id, row)
  }
  return { values: [...values.values()], rows: [...rows.values()] }
}
