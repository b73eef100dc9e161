import { http } from './client'
import type { IsoDateTime } from './types'

/** Prospecting tasks (拓客任务): completion is counted by the server, never typed in. */
export type TaskStatus = 'draft' | 'published' | 'closed' | 'cancelled'
export type TaskMetric = 'referrals' | 'valid_referrals' | 'visits' | 'invited_brokers'
export type AssignMode = 'agencies' | 'brokers' | 'teams' | 'cooperating'

export const TASK_STATUS_NAMES: Record<TaskStatus, string> = {
  draft: '草稿',
  published: '进行中',
  closed: '已关闭',
  cancelled: '已取消',
}

export const METRIC_NAMES: Record<TaskMetric, string> = {
  referrals: '报备数',
  valid_referrals: '有效报备数',
  visits: '带看到访数',
  invited_brokers: '邀请经纪人数',
}

export const ASSIGN_MODE_NAMES: Record<AssignMode, string> = {
  agencies: '指定渠道公司',
  brokers: '指定经纪人',
  teams: '渠道团队',
  cooperating: '全部合作渠道公司',
}

export interface AssigneeProgress {
  kind: 'agency' | 'broker'
  id: number
  name: string
  agency_name: string | null
  target: number
  count: number
  rate: number
}

export interface LeaderRow extends AssigneeProgress {
  rank: number
  mine: boolean
}

export interface ProspectingTask {
  id: number
  title: string
  description: string
  metric: TaskMetric
  metric_name: string
  project_ids: number[]
  campaign_id: number | null
  start_date: string
  end_date: string
  starts_at: IsoDateTime
  ends_at: IsoDateTime
  target: number
  assign_mode: AssignMode
  teams: string[]
  status: TaskStatus
  assignee_count: number
  total_count: number
  total_target: number
  rate: number
  published_at: IsoDateTime | null
  closed_at: IsoDateTime | null
  created_at: IsoDateTime
  updated_at: IsoDateTime
}

export interface TaskDetail extends ProspectingTask {
  assignees: AssigneeProgress[]
  leaderboard: LeaderRow[]
}

export interface AssigneeInput {
  id: number
  target?: number | null
}

export interface TaskInput {
  title: string
  description: string
  metric: TaskMetric
  project_ids: number[]
  campaign_id: number | null
  start_date: string
  end_date: string
  target: number
  assign_mode: AssignMode
  assignees: AssigneeInput[]
  teams: string[]
}

export interface TaskQuery {
  project_id?: number
  status?: TaskStatus
  metric?: TaskMetric
}

/** A rate (0–1, above 1 when exceeded) as a whole percentage for a progress bar. */
export function percent(rate: number): number {
  return Math.round(rate * 100)
}

const base = '/channel/prospecting-tasks'

export const channelTasksApi = {
  list: (query: TaskQuery = {}) => http.get<ProspectingTask[]>(base, { ...query }),
  get: (id: number) => http.get<TaskDetail>(`${base}/${id}`),
  create: (body: TaskInput) => http.post<TaskDetail>(base, body),
  update: (id: number, body: Partial<TaskInput> & { status?: 'published' | 'closed' | 'cancelled' }) =>
    http.patch<TaskDetail>(`${base}/${id}`, body),
}
