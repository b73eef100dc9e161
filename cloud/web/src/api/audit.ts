import { http } from './client'
import type { Download } from './http'
import type { CursorPage, IsoDateTime } from './types'

export type AuditResult = 'success' | 'failure'

export interface AuditLog {
  id: number
  at: IsoDateTime
  actor_id: number | null
  actor: string
  ip: string | null
  action: string
  object_type: string
  object_id: string
  /** The object's name (user: 姓名（登录名）; site, project: name; customer: masked phone). */
  object_label: string | null
  result: AuditResult | string
  detail: Record<string, unknown>
  /** The hash chain (shard) the row belongs to; each is verified on its own (ADR 0059). */
  shard: number
}

export interface AuditFilter {
  /** Event prefix, e.g. `auth.` or `user.roles`. */
  action?: string
  actor?: string
  result?: AuditResult
  /** ISO date-times with an offset; `to` is exclusive. */
  from?: string
  to?: string
}

export const auditApi = {
  list: (filter: AuditFilter, cursor: string | null, limit: number) =>
    http.get<CursorPage<AuditLog>>('/audit/logs', { ...filter, cursor, limit }),
  /** CSV (UTF-8 with BOM, opens in Excel); X-Export-Truncated says whether rows were cut. */
  export: (filter: AuditFilter): Promise<Download> =>
    http.download('/audit/logs/export', { ...filter }),
}
