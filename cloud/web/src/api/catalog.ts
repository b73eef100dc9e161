import { http } from './client'
import type { IsoDateTime } from './types'

export interface Site {
  id: string
  name: string
  is_active: boolean
  created_at: IsoDateTime
}

export interface Project {
  id: number
  site_id: string
  name: string
  city: string
}

export const catalogApi = {
  sites: () => http.get<Site[]>('/sites'),
  projects: (siteId?: string) => http.get<Project[]>('/projects', { site_id: siteId }),
}
