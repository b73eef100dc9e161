import { describe, expect, it } from 'vitest'

import type { TaskDetail } from '@/api/channelTasks'

import { changes, inputOf } from '../input'

const TASK: TaskDetail = {
  id: 7, title: '双周冲刺', description: '', metric: 'referrals', metric_name: '报备数', project_ids: [1, 3],
  campaign_id: null, start_date: '2026-11-28', end_date: '2026-12-11', starts_at: '2026-11-27T16:00:00Z',
  ends_at: '2026-12-11T16:00:00Z', target: 4, assign_mode: 'brokers', teams: [], status: 'published',
  assignee_count: 2, total_count: 4, total_target: 13, rate: 0.3077, published_at: null, closed_at: null,
  created_at: '2026-11-28T05:00:00Z', updated_at: '2026-11-28T05:00:00Z',
  assignees: [
    { kind: 'broker', id: 11, name: '张三丰', agency_name: null, target: 4, count: 1, rate: 0.25 },
    { kind: 'broker', id: 12, name: '李四', agency_name: null, target: 9, count: 3, rate: 0.3333 },
  ],
  leaderboard: [],
}

describe('task edits', () => {
  it('keeps an assignee target only where it differs from the default', () => {
    expect(inputOf(TASK).assignees).toEqual([{ id: 11, target: null }, { id: 12, target: 9 }])
  })

  it('sends nothing for an untouched form', () => {
    expect(changes(TASK, inputOf(TASK))).toEqual({})
    // The projects in another order are the same projects.
    expect(changes(TASK, { ...inputOf(TASK), project_ids: [3, 1] })).toEqual({})
  })

  it('sends only the changed fields', () => {
    const edited = { ...inputOf(TASK), end_date: '2026-12-20', target: 6 }
    expect(changes(TASK, edited)).toEqual({ end_date: '2026-12-20', target: 6 })
  })

  it('sends the assignees when one is added', () => {
    const edited = { ...inputOf(TASK), assignees: [...inputOf(TASK).assignees, { id: 13, target: null }] }
    expect(Object.keys(changes(TASK, edited))).toEqual(['assignees'])
  })

  it('keeps only the agencies with a target of their own in the teams and cooperating modes', () => {
    const team: TaskDetail = {
      ...TASK, assign_mode: 'teams', teams: ['华东'],
      assignees: [
        { kind: 'agency', id: 21, name: '渠道A', agency_name: null, target: 4, count: 1, rate: 0.25 },
        { kind: 'agency', id: 22, name: '渠道B', agency_name: null, target: 7, count: 0, rate: 0 },
      ],
    }
    expect(inputOf(team).assignees).toEqual([{ id: 22, target: 7 }])
    expect(changes(team, inputOf(team))).toEqual({})
  })
})
