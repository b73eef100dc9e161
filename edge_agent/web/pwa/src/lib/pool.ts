// 公客池 on the phone: a consultant asks to take a lapsed customer, a sales director
// decides. Both straight from the cloud, online only — who owns a customer is decided
// there (cloud/sales/ownership_actions.py), so nothing here is queued for later.
import { cloudProblem } from '../api/http'
import type { Pickup, PickupStatus } from '../api/types'
import { holdsAny, POOL_APPROVER_ROLES, POOL_PICKER_ROLES } from './roles'

export const POOL_OFFLINE_MESSAGE = '连不上云端：公客池须联网查看和领取，请稍后再试'

/** What the page is for this user: asking (consultant) or deciding (sales director). */
export type PoolMode = 'pick' | 'approve'

export function poolMode(roles: readonly string[]): PoolMode | null {
  if (holdsAny(roles, POOL_APPROVER_ROLES)) return 'approve'
  if (holdsAny(roles, POOL_PICKER_ROLES)) return 'pick'
  return null
}

export const PICKUP_STATUS_LABELS: Record<PickupStatus, string> = {
  pending: '待审批',
  approved: '已同意',
  refused: '已拒绝',
}

type Tone = 'primary' | 'success' | 'danger'
const TONES: Record<PickupStatus, Tone> = { pending: 'primary', approved: 'success', refused: 'danger' }
export const pickupTone = (status: PickupStatus): Tone => TONES[status]

/** The customers this consultant is already waiting on (a second request is refused). */
export const waitingOn = (mine: readonly Pickup[]): Set<number> =>
  new Set(mine.filter((p) => p.status === 'pending').map((p) => p.customer_id))

/** The Chinese sentence for a failed call: the cloud's own refusal (原归属顾问不能直接领回,
 * 已申请…) as it wrote it, or why there was no answer. */
export const poolProblem = (error: unknown): string => cloudProblem(error, POOL_OFFLINE_MESSAGE)
