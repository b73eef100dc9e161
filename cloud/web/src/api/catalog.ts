import { http } from './client'
import type { IsoDateTime } from './types'

export interface LatLng {
  lat: number
  lng: number
}

/** 案场位置: stored in WGS-84; its GCJ-02 twin is for checking on 高德 / 腾讯 maps. */
export interface SitePosition {
  wgs84: LatLng
  gcj02: LatLng
  address: string
  set_by: number | null
  set_at: IsoDateTime | null
}

export interface Site {
  id: string
  name: string
  is_active: boolean
  created_at: IsoDateTime
  position: SitePosition | null
}

export type Datum = 'gcj02' | 'bd09' | 'wgs84'

export interface SitePositionBody {
  lat: number
  lng: number
  datum: Datum
  address: string
}

export interface Project {
  id: number
  site_id: string
  name: string
  city: string
}

export const catalogApi = {
  sites: () => http.get<Site[]>('/sites'),
  setPosition: (siteId: string, body: SitePositionBody) =>
    http.put<Site>(`/sites/${encodeURIComponent(siteId)}/position`, body),
  projects: (siteId?: string) => http.get<Project[]>('/projects', { site_id: siteId }),
}
