import { http } from './client'
import type { IsoDateTime } from './types'

export type RotaAction =
  | 'check_in' | 'check_out' | 'turn_consumed' | 'turn_not_counted' | 'away' | 'back'
  | 'penalty' | 'turn_skipped' | 'suspended' | 'stand_in' | 'claimed' | 'settings_changed'

/** One change of a site's reception queue (轮岗), as the appliance recorded it. */
export interface RotaEvent {
  id: string
  site_id: string
  duty_date: string
  occurred_at: IsoDateTime
  consultant_id: number
  consultant_name: string | null
  action: RotaAction
  actor: string
  reason: string
  away_reason: string | null
  visit_id: string | null
  position_before: number | null
  position_after: number | null
  detail: Record<string, unknown>
}

export interface RotaEventFilter {
  site_id?: string
  duty_date?: string
  consultant_id?: number
}

export const receptionApi = {
  rotaEvents: (filter: RotaEventFilter) => http.get<RotaEvent[]>('/reception/rota-events', { ...filter }),
}
