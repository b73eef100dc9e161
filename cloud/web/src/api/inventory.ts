import { http } from './client'
import type { Revalidated } from './http'
import type { IsoDateTime } from './types'

export type UnitState =
  | 'unreleased' | 'available' | 'reserved' | 'controlled'
  | 'pledged' | 'subscribed' | 'signed' | 'delivered'

export type ConsoleAction = 'withdraw' | 'unreserve' | 'control' | 'uncontrol'

export interface UnitCell {
  id: number
  room: string
  floor: number
  layout: string
  area_centi: number
  list_price_fen: number
  /** 底价: only for those who see every unit. */
  floor_price_fen: number | null
  state: UnitState
  hold_until: IsoDateTime | null
  control_reason: string
  batch_id: number | null
}

export interface FloorRow {
  floor: number
  units: UnitCell[]
}

export interface BuildingGrid {
  id: number
  name: string
  floors: FloorRow[]
}

export interface Grid {
  project_id: number
  version: number
  full: boolean
  colours: Record<string, string>
  states: { code: UnitState; name: string }[]
  buildings: BuildingGrid[]
}

export interface UnitLogRow {
  id: number
  unit_id: number
  building: string
  room: string
  action: string
  from_state: UnitState
  to_state: UnitState
  actor_id: number | null
  actor_name: string
  reason: string
  at: IsoDateTime
}

export interface Batch {
  id: number
  project_id: number
  name: string
  kind: 'first_opening' | 'add_on'
  unit_count: number
  released_by: number
  released_at: IsoDateTime
}

export type HoldStatus = 'pending' | 'approved' | 'rejected' | 'cancelled'

export interface Hold {
  id: number
  project_id: number
  unit_id: number
  customer_id: number | null
  reason: string
  days: number
  status: HoldStatus
  requested_by: number
  requested_at: IsoDateTime
  decided_by: number | null
  decided_at: IsoDateTime | null
  decision_note: string
}

export interface InventorySettings {
  project_id: number
  colours: Record<string, string>
  reserve_max_days: number
  pledge_unreleased: boolean
}

export interface RowError {
  row: number
  column: string
  code: string
  message: string
}

export interface Imported {
  buildings_created: number
  units_created: number
}

const project = (id: number) => `/inventory/projects/${id}`

export const inventoryApi = {
  /** The grid unless unchanged since `etag` (the live poll). */
  grid: (projectId: number, etag: string | null, background = false): Promise<Revalidated<Grid>> =>
    http.revalidate<Grid>(`${project(projectId)}/grid`, etag, { background }),
  move: (unitId: number, action: ConsoleAction, reason: string) =>
    http.post<UnitLogRow>(`/inventory/units/${unitId}/transitions`, { action, reason }),
  log: (projectId: number, query: { unit_id?: number; before_id?: number; limit?: number }) =>
    http.get<UnitLogRow[]>(`${project(projectId)}/log`, query),
  batches: (projectId: number) => http.get<Batch[]>(`${project(projectId)}/batches`),
  release: (projectId: number, body: { name: string; kind: Batch['kind']; unit_ids: number[] }) =>
    http.post<Batch>(`${project(projectId)}/batches`, body),
  holds: (projectId: number, status?: HoldStatus) =>
    http.get<Hold[]>(`${project(projectId)}/holds`, { status }),
  requestHold: (unitId: number, body: { reason: string; days: number }) =>
    http.post<Hold>(`/inventory/units/${unitId}/holds`, body),
  approve: (holdId: number, note: string) => http.post<Hold>(`/inventory/holds/${holdId}/approve`, { note }),
  reject: (holdId: number, note: string) => http.post<Hold>(`/inventory/holds/${holdId}/reject`, { note }),
  settings: (projectId: number) => http.get<InventorySettings>(`${project(projectId)}/settings`),
  saveSettings: (projectId: number, body: Omit<InventorySettings, 'project_id'>) =>
    http.put<InventorySettings>(`${project(projectId)}/settings`, body),
  /** The row errors come back in the problem's `errors` (the caller shows them). */
  importUnits: (projectId: number, file: File) =>
    http.upload<Imported>(`${project(projectId)}/import`, file, file.name, { silent: true }),
}
