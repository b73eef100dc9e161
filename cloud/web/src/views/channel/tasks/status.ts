import type { TaskStatus } from '@/api/channelTasks'

export const STATUS_TAGS: Record<TaskStatus, 'info' | 'success' | 'warning' | 'danger'> = {
  draft: 'warning',
  published: 'success',
  closed: 'info',
  cancelled: 'danger',
}
