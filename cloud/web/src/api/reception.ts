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

export type OrderMode = 'check_in' | 'fewest_new'
export type DropReason = 'leave' | 'rest' | 'private'
export type DropEffect = 'tail' | 'off'

/** A project's reception settings (shared.reception.ReceptionRules); times are Beijing
 * wall-clock `HH:MM:SS[.ffffff]`. */
export interface ReceptionRules {
  order_mode: OrderMode
  return_consumes_turn: boolean
  drop_effects: Record<DropReason, DropEffect>
  work_start: string
  work_end: string
  stand_in_share_percent: number
  claim_days: number
  refusal_suspend_days: number
  skip_turns_penalty: number
}

/** The settings, the rules page's defaults, and the last change (`console` or `site:<id>`). */
export interface ReceptionSettings {
  project_id: number
  rules: ReceptionRules
  defaults: ReceptionRules
  changed_at: IsoDateTime | null
  changed_by: number | null
  changed_by_name: string | null
  changed_via: string | null
}

export const receptionApi = {
  rotaEvents: (filter: RotaEventFilter) => http.get<RotaEvent[]>('/reception/rota-events', { ...filter }),
  settings: (projectId: number) => http.get<ReceptionSettings>(`/projects/${projectId}/reception-settings`),
  saveSettings: (projectId: number, rules: ReceptionRules) =>
    http.put<ReceptionSettings>(`/projects/${projectId}/reception-settings`, rules),
}
