import { describe, expect, it } from 'vitest'

import { ApiError, NetworkError } from '../../api/http'
import type { Pickup } from '../../api/types'
import { PICKUP_STATUS_LABELS, poolMode, poolProblem, POOL_OFFLINE_MESSAGE, waitingOn } from '../pool'
import { mayOpen } from '../roles'

const pickup = (id: number, customer: number, status: Pickup['status']): Pickup => ({
  id, customer_id: customer, project_id: 1, phone_masked: '139****0001', requester_id: 5,
  requester_name: '王磊', status, reason: null, decided_by_name: null, decided_at: null,
  decision_note: null, created_at: '2026-11-29T02:00:00Z',
})

describe('公客池 on the phone', () => {
  it('asks as a consultant, decides as a sales director, and is closed to the rest', () => {
    expect(poolMode(['consultant'])).toBe('pick')
    expect(poolMode(['sales_director'])).toBe('approve')
    expect(poolMode(['sales_manager'])).toBeNull()
    expect(mayOpen('pool', ['consultant'])).toBe(true)
    expect(mayOpen('pool', ['sales_director'])).toBe(true)
    expect(mayOpen('pool', ['sales_manager'])).toBe(false)
  })

  it('knows the customers already asked for, not the decided ones', () => {
    const mine = [pickup(1, 10, 'pending'), pickup(2, 11, 'refused'), pickup(3, 12, 'approved')]
    expect([...waitingOn(mine)]).toEqual([10])
    expect(PICKUP_STATUS_LABELS.refused).toBe('已拒绝')
  })

  it('says the cloud’s own refusal, or that the cloud is out of reach', () => {
    const refused = new ApiError({ status: 403, detail: '原归属顾问不能直接领回公客', code: 'pool_reclaim_refused' })
    expect(poolProblem(refused)).toBe('原归属顾问不能直接领回公客')
    expect(poolProblem(new NetworkError('down'))).toBe(POOL_OFFLINE_MESSAGE)
  })
})
