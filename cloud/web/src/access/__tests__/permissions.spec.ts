import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'

import { breadcrumbs, buildMenu, menuSections } from '../menu'
import { Perm, hasPermission } from '../permissions'

const Icon = { name: 'Icon', render: () => null }
const page = { render: () => null }

const routes: RouteRecordRaw[] = [
  { path: 'audit', name: 'audit', component: page, meta: { title: '审计日志', permission: Perm.AUDIT_READ, menu: { icon: Icon, order: 50 } } },
  { path: 'dashboard', name: 'dashboard', component: page, meta: { title: '首页', permission: Perm.VISIT_READ, menu: { icon: Icon, order: 10 } } },
  { path: 'users', name: 'users', component: page, meta: { title: '用户与角色', permission: Perm.USER_READ, menu: { icon: Icon, order: 40 } } },
  { path: '403', name: 'forbidden', component: page, meta: { title: '无权访问' } },
  { path: 'visits', name: 'visits', component: page, meta: { title: '到访记录', permission: Perm.VISIT_READ, menu: { icon: Icon, order: 20 } } },
  { path: 'customers/:id', name: 'customer', component: page, meta: { title: '客户详情', parent: 'visits' } },
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

  it('needs one of an anyOf list', () => {
    const page = { anyOf: [Perm.SYNC_READ, Perm.SITE_LOCATE] } as const
    expect(hasPermission(new Set<string>([Perm.SITE_LOCATE]), page)).toBe(true)
    expect(hasPermission(new Set<string>([Perm.SYNC_READ]), page)).toBe(true)
    expect(hasPermission(new Set<string>([Perm.SITE_READ]), page)).toBe(false)
  })

  it('builds the menu from the permission codes, in order', () => {
    const auditor = new Set<string>([Perm.AUDIT_READ, Perm.AUDIT_EXPORT])
    expect(buildMenu(routes, auditor).map((m) => m.path)).toEqual(['/audit'])
    const admin = new Set<string>([Perm.VISIT_READ, Perm.USER_READ])
    expect(buildMenu(routes, admin).map((m) => [m.path, m.title])).toEqual([
      ['/dashboard', '首页'], ['/visits', '到访记录'], ['/users', '用户与角色'],
    ])
    expect(buildMenu(routes, new Set())).toEqual([])
  })
})

describe('menu sections', () => {
  it('puts consecutive items of a group under its title', () => {
    const item = (name: string, group?: string) => ({ name, path: `/${name}`, title: name, icon: Icon, group, home: true })
    const sections = menuSections([item('a'), item('b'), item('c', '渠道'), item('d', '渠道'), item('e')])
    expect(sections.map((s) => [s.group, s.items.map((i) => i.name)])).toEqual([
      [undefined, ['a']], [undefined, ['b']], ['渠道', ['c', 'd']], [undefined, ['e']],
    ])
  })

  it('carries the group of a route into the menu', () => {
    const grouped: RouteRecordRaw[] = [{
      path: 'channel/rules', name: 'rules', component: page,
      meta: { title: '渠道规则', permission: Perm.CHANNEL_RULES_READ, menu: { icon: Icon, order: 60, group: '渠道' } },
    }]
    expect(buildMenu(grouped, new Set([Perm.CHANNEL_RULES_READ]))[0]?.group).toBe('渠道')
  })

  it('marks a page home only for those holding its homeWhen', () => {
    const sites: RouteRecordRaw[] = [{
      path: 'sites', name: 'sites', component: page,
      meta: { title: '案场设备', permission: { anyOf: [Perm.SYNC_READ, Perm.SITE_LOCATE] },
              menu: { icon: Icon, order: 30, homeWhen: Perm.SYNC_READ } },
    }]
    expect(buildMenu(sites, new Set([Perm.SITE_LOCATE]))[0]?.home).toBe(false)
    expect(buildMenu(sites, new Set([Perm.SYNC_READ]))[0]?.home).toBe(true)
    expect(buildMenu(routes, new Set([Perm.AUDIT_READ]))[0]?.home).toBe(true)
  })
})

describe('breadcrumbs', () => {
  it('leads from home through the parent chain to the page', () => {
    expect(breadcrumbs(routes, 'customer', '/dashboard')).toEqual([
      { title: '首页', path: '/dashboard' },
      { title: '到访记录', path: '/visits' },
      { title: '客户详情', path: undefined },
    ])
    expect(breadcrumbs(routes, 'users', '/dashboard')).toEqual([
      { title: '首页', path: '/dashboard' }, { title: '用户与角色', path: undefined },
    ])
  })

  it('is just the page when the page is home', () => {
    expect(breadcrumbs(routes, 'dashboard', '/dashboard')).toEqual([{ title: '首页', path: undefined }])
    expect(breadcrumbs(routes, 'audit', '/audit')).toEqual([{ title: '审计日志', path: undefined }])
  })
})
