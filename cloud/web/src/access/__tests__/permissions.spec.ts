import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'

import { buildMenu } from '../menu'
import { Perm, hasPermission } from '../permissions'

const Icon = { name: 'Icon', render: () => null }
const page = { render: () => null }

const routes: RouteRecordRaw[] = [
  { path: 'audit', name: 'audit', component: page, meta: { title: '审计日志', permission: Perm.AUDIT_READ, menu: { icon: Icon, order: 50 } } },
  { path: 'dashboard', name: 'dashboard', component: page, meta: { title: '首页', permission: Perm.VISIT_READ, menu: { icon: Icon, order: 10 } } },
  { path: 'users', name: 'users', component: page, meta: { title: '用户与角色', permission: Perm.USER_READ, menu: { icon: Icon, order: 40 } } },
  { path: '403', name: 'forbidden', component: page, meta: { title: '无权访问' } },
]

describe('permissions', () => {
  it('needs every listed code; no requirement means open', () => {
    const granted = new Set<string>([Perm.USER_READ, Perm.USER_MANAGE])
    expect(hasPermission(granted, undefined)).toBe(true)
    expect(hasPermission(granted, Perm.USER_READ)).toBe(true)
    expect(hasPermission(granted, [Perm.USER_READ, Perm.USER_MANAGE])).toBe(true)
    expect(hasPermission(granted, [Perm.USER_READ, Perm.ROLE_ASSIGN])).toBe(false)
    expect(hasPermission(new Set(), Perm.AUDIT_READ)).toBe(false)
  })

  it('builds the menu from the permission codes, in order', () => {
    const auditor = new Set<string>([Perm.AUDIT_READ, Perm.AUDIT_EXPORT])
    expect(buildMenu(routes, auditor).map((m) => m.path)).toEqual(['/audit'])
    const admin = new Set<string>([Perm.VISIT_READ, Perm.USER_READ])
    expect(buildMenu(routes, admin).map((m) => [m.path, m.title])).toEqual([
      ['/dashboard', '首页'], ['/users', '用户与角色'],
    ])
    expect(buildMenu(routes, new Set())).toEqual([])
  })
})
