import type { TaskDetail, TaskInput } from '@/api/channelTasks'

const PICKED = ['agencies', 'brokers']

/** A saved task as the form would send it (an assignee's own target only when it differs). */
export function inputOf(task: TaskDetail): TaskInput {
  return {
    title: task.title, description: task.description, metric: task.metric, project_ids: task.project_ids,
    campaign_id: task.campaign_id, start_date: task.start_date, end_date: task.end_date, target: task.target,
    assign_mode: task.assign_mode, teams: task.assign_mode === 'teams' ? task.teams : [],
    assignees: PICKED.includes(task.assign_mode)
      ? task.assignees.map((a) => ({ id: a.id, target: a.target !== task.target ? a.target : null }))
      // Teams / cooperating: only the agencies given a target of their own.
      : task.assignees.filter((a) => a.target !== task.target).map((a) => ({ id: a.id, target: a.target })),
  }
}

/**
 * An edit sends what changed only: an untouched choice keeps the assignees it resolved
 * to, and a published task's fixed fields (metric, projects, start) are never sent back.
 */
export function changes(task: TaskDetail, edited: TaskInput): Partial<TaskInput> {
  const original = inputOf(task)
  const diff: Partial<TaskInput> = {}
  for (const key of Object.keys(edited) as (keyof TaskInput)[]) {
    const same = key === 'project_ids'
      ? JSON.stringify([...edited.project_ids].sort((a, b) => a - b)) === JSON.stringify(original.project_ids)
      : JSON.stringify(edited[key]) === JSON.stringify(original[key])
    if (!same) Object.assign(diff, { [key]: edited[key] })
  }
  return diff
}
