import { http } from './client'
import type { IsoDateTime } from './types'

/** A site's link as the cloud sees it: the edge's MQTT status plus the sync cursors. */
export interface SiteSyncStatus {
  site_id: string
  site_name: string
  online: boolean
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
  sites: () => http.get<SiteSyncStatus[]>('/sync/sites'),
}
