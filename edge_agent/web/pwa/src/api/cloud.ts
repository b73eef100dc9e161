// The cloud at HQ: the fallback when the sales office's appliance is out of reach
// (the phone is on 4G, or the office LAN is down). Needs the cloud's CORS setting.
import { request, revalidate } from './http'
import type {
  AnalysisGroupBy,
  AnalysisGrouped,
  AnalysisSellThrough,
  ChangeBody,
  CloudFollowUp,
  ConvertBody,
  Deal,
  DealBody,
  DealChange,
  DealDetail,
  FollowUpBody,
  Pickup,
  PickupStatus,
  PoolPage,
  Revealed,
  UnitGrid,
} from './types'

const api = (base: string, path: string) => `${base.replace(/\/+$/, '')}/api/v1${path}`

export const cloudApi = {
  followUp: (base: string, token: string, body: FollowUpBody) =>
    request<unknown>(api(base, '/follow-ups'), {
      method: 'POST',
      token,
      body,
      headers: { 'Idempotency-Key': body.id },
      timeoutMs: 10000,
    }),
  followUps: (base: string, token: string, customerId: string) =>
    request<CloudFollowUp[]>(api(base, `/follow-ups?customer_id=${encodeURIComponent(customerId)}`), {
      token,
      timeoutMs: 8000,
    }),
  contact: (base: string, token: string, customerId: string, reason: string) =>
    request<Revealed>(api(base, `/customers/${encodeURIComponent(customerId)}/contact`), {
      method: 'POST',
      token,
      body: { reason },
      timeoutMs: 8000,
    }),
  /** The released units of a project (the 销控表), unless unchanged since `etag`. */
  grid: (base: string, token: string, projectId: number, etag: string | null) =>
    revalidate<UnitGrid>(api(base, `/inventory/projects/${projectId}/grid`), token, etag),
  requestHold: (base: string, token: string, unitId: number, reason: string, days: number) =>
    request<unknown>(api(base, `/inventory/units/${unitId}/holds`), {
      method: 'POST',
      token,
      body: { reason, days },
      timeoutMs: 8000,
    }),
  /** The 公客池 of a project, newest lapse first. */
  pool: (base: string, token: string, projectId: number) =>
    request<PoolPage>(api(base, `/ownership/customers?category=public&project_id=${projectId}&limit=100`), {
      token,
      timeoutMs: 8000,
    }),
  /** Pick-up requests: a consultant's own, a sales director's to decide. */
  pickups: (base: string, token: string, projectId: number, status?: PickupStatus) =>
    request<Pickup[]>(
      api(base, `/pool/pickup-requests?project_id=${projectId}${status ? `&status=${status}` : ''}`),
      { token, timeoutMs: 8000 },
    ),
  requestPickup: (base: string, token: string, customerId: number, reason: string) =>
    request<Pickup>(api(base, `/customers/${customerId}/pickup-requests`), {
      method: 'POST',
      token,
      body: { reason: reason || null },
      timeoutMs: 8000,
    }),
  decidePickup: (base: string, token: string, requestId: number, approve: boolean, note: string) =>
    request<Pickup>(api(base, `/pool/pickup-requests/${requestId}/decision`), {
      method: 'POST',
      token,
      body: { approve, note: note || null },
      timeoutMs: 8000,
    }),
  /** 销售分析 of a project over Beijing days (a consultant gets their own numbers only). */
  analysis: <Row>(base: string, token: string, what: 'figures' | 'funnel', query: AnalysisQuery) =>
    request<AnalysisGrouped<Row>>(api(base, `/sales/analysis/${what}?${analysisQuery(query)}`), {
      token,
      timeoutMs: 10000,
    }),
  sellThrough: (base: string, token: string, projectId: number) =>
    request<AnalysisGrouped<AnalysisSellThrough>>(
      api(base, `/sales/analysis/sell-through?project_id=${projectId}&group_by=batch`),
      { token, timeoutMs: 10000 },
    ),
  /** 交易单据 of a project, newest first; the cloud gives a consultant only their own. */
  deals: (base: string, token: string, projectId: number, query: DealQuery = {}) =>
    request<Deal[]>(api(base, `/deals/projects/${projectId}/deals?${dealQuery(query)}`), {
      token,
      timeoutMs: 10000,
    }),
  deal: (base: string, token: string, dealId: number) =>
    request<DealDetail>(api(base, `/deals/${dealId}`), { token, timeoutMs: 8000 }),
  createDeal: (base: string, token: string, projectId: number, body: DealBody) =>
    request<Deal>(api(base, `/deals/projects/${projectId}/deals`), { method: 'POST', token, body, timeoutMs: 10000 }),
  /** A step of the document: submit (no body), approve / reject (a note), cancel (a reason). */
  dealStep: (base: string, token: string, dealId: number, step: DealStep, text = '') =>
    request<DealDetail>(api(base, `/deals/${dealId}/${step}`), {
      method: 'POST',
      token,
      body: step === 'submit' ? undefined : step === 'cancel' ? { reason: text } : { note: text },
      timeoutMs: 10000,
    }),
  convertDeal: (base: string, token: string, dealId: number, body: ConvertBody) =>
    request<DealDetail>(api(base, `/deals/${dealId}/convert`), { method: 'POST', token, body, timeoutMs: 10000 }),
  requestChange: (base: string, token: string, dealId: number, body: ChangeBody) =>
    request<DealChange>(api(base, `/deals/${dealId}/changes`), { method: 'POST', token, body, timeoutMs: 10000 }),
  decideChange: (base: string, token: string, changeId: number, decision: 'apply' | 'reject', note: string) =>
    request<DealChange>(api(base, `/deals/changes/${changeId}/${decision}`), {
      method: 'POST',
      token,
      body: { note },
      timeoutMs: 10000,
    }),
}

export type DealStep = 'submit' | 'approve' | 'reject' | 'cancel'

export interface DealQuery {
  status?: string
  customerId?: number
}

function dealQuery(q: DealQuery): string {
  const params = new URLSearchParams()
  if (q.status) params.set('status', q.status)
  if (q.customerId !== undefined) params.set('customer_id', String(q.customerId))
  return params.toString()
}

export interface AnalysisQuery {
  projectId: number
  dateFrom: string
  dateTo: string
  groupBy: AnalysisGroupBy
}

function analysisQuery(q: AnalysisQuery): string {
  return new URLSearchParams({
    project_id: String(q.projectId),
    date_from: q.dateFrom,
    date_to: q.dateTo,
    group_by: q.groupBy,
  }).toString()
}
