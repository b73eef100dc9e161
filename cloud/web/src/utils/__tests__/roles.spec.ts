import { describe, expect, it } from 'vitest'

import type { Role } from '@/api/users'

import { rolesNeedingGrant } from '../roles'

const ROLES: Role[] = [
  { code: 'sys_admin', name: '系统管理员', permissions: ['identity:user:manage'] },
  { code: 'hq_manager', name: '总部管理', permissions: ['sales:customer:unmask'] },
  { code: 'consultant', name: '置业顾问', permissions: ['sales:customer:contact'] },
  { code: 'receptionist', name: '前台', permissions: ['sales:visit:read'] },
]

describe('rolesNeedingGrant', () => {
  it('names the unmasking roles an administrator would also hold', () => {
    const needing = rolesNeedingGrant(['sys_admin', 'hq_manager', 'consultant', 'receptionist'], ROLES)
    expect(needing.map((r) => r.code)).toEqual(['hq_manager', 'consultant'])
  })

  it('asks nothing of business roles alone or of an administrator without them', () => {
    expect(rolesNeedingGrant(['hq_manager', 'consultant'], ROLES)).toEqual([])
    expect(rolesNeedingGrant(['sys_admin', 'receptionist'], ROLES)).toEqual([])
  })
})
