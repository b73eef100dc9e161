import { http } from './client'
import type { IsoDateTime } from './types'

export type CampaignStatus = 'draft' | 'published' | 'ended'

export interface Campaign {
  id: number
  title: string
  requirements: string
  rewards: string
  announcement: string
  starts_at: IsoDateTime
  ends_at: IsoDateTime
  status: CampaignStatus
  project_ids: number[]
  published_at: IsoDateTime | null
  created_at: IsoDateTime
  updated_at: IsoDateTime
}

export interface CampaignInput {
  title: string
  requirements: string
  rewards: string
  announcement: string
  starts_at: IsoDateTime
  ends_at: IsoDateTime
  project_ids: number[]
}

export interface ProjectProfile {
  project_id: number
  project_name: string
  district: string
  price_min_yuan: number | null
  price_max_yuan: number | null
  layouts: string[]
  cooperation: string
  updated_at: IsoDateTime | null
}

export type ProfileInput = Omit<ProjectProfile, 'project_id' | 'project_name' | 'updated_at'>

export const channelListingApi = {
  campaigns: (query: { project_id?: number; status?: CampaignStatus } = {}) =>
    http.get<Campaign[]>('/channel/campaigns', query),
  createCampaign: (body: CampaignInput) => http.post<Campaign>('/channel/campaigns', body),
  updateCampaign: (id: number, body: Partial<CampaignInput> & { status?: 'published' | 'ended' }) =>
    http.patch<Campaign>(`/channel/campaigns/${id}`, body),
  profile: (projectId: number) => http.get<ProjectProfile>(`/channel/projects/${projectId}/profile`),
  saveProfile: (projectId: number, body: ProfileInput) =>
    http.put<ProjectProfile>(`/channel/projects/${projectId}/profile`, body),
}
