import { http } from './client'
import type { IsoDateTime } from './types'

export type SyncHealth = 'ok' | 'stalled' | 'refused' | 'alarm'
export type SyncAlarm =
  | 'gap_unhealed'
  | 'edge_stalled'
  | 'epoch_refused'
  | 'twin'
  | 'seq_conflict'
  | 'cloud_behind'
  | 'edge_storage_full'
  | 'clock_skew'

/** A site's link as the cloud sees it: the edge's MQTT status plus the sync cursors. */
export interface SiteSyncStatus {
  site_id: string
  site_name: string
  online: boolean
  health: SyncHealth
  alarms: SyncAlarm[]
  epoch: string | null
  refused_epoch: string | null
  instance: string | null
  refused_instance: string | null
  edge_link: string
  edge_storage_full: boolean
  skew_sampled_at: IsoDateTime | null
  status_at: IsoDateTime | null
  last_applied_seq: number
  last_event_at: IsoDateTime | null
  edge_backlog: number
  edge_oldest_unacked_at: IsoDateTime | null
  gap_since: IsoDateTime | null
  gap_alarm: boolean
  clock_skew_seconds: number | null
  clock_skew_alarm: boolean
  agent_version: string
  down_cursor_acked: number
}

export const syncApi = {
  sites: (background = false) =>
    http.get<SiteSyncStatus[]>('/sync/sites', undefined, { background }),
}
