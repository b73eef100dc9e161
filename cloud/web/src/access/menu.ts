import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

import { type PermissionRequirement, hasPermission } from './permissions'

export interface MenuItem {
  name: string
  path: string
  title: string
  icon: Component
  group?: string
  /** False when the user may open the page but it is not where their day starts. */
  home: boolean
}

/** A run of menu items: under a group title, or not grouped. */
export interface MenuSection {
  group?: string
  items: MenuItem[]
}

/** The side menu: routes marked `menu` whose permission the user holds, in order. */
export function buildMenu(
  routes: readonly RouteRecordRaw[],
  granted: ReadonlySet<string>,
  parentPath = '/',
): MenuItem[] {
  const entries: { order: number; item: MenuItem }[] = []
  for (const route of routes) {
    const menu = route.meta?.menu
    const permission: PermissionRequirement | undefined = route.meta?.permission
    if (!menu || typeof route.name !== 'string' || !hasPermission(granted, permission)) continue
    entries.push({
      order: menu.order,
      item: {
        name: route.name, path: parentPath + route.path, title: route.meta?.title ?? route.name,
        icon: menu.icon, group: menu.group,
        home: menu.homeWhen === undefined || hasPermission(granted, menu.homeWhen),
      },
    })
  }
  return entries.sort((a, b) => a.order - b.order).map((e) => e.item)
}

/** The menu cut into sections: consecutive items of one group share its title. */
export function menuSections(items: readonly MenuItem[]): MenuSection[] {
  const sections: MenuSection[] = []
  for (const item of items) {
    const last = sections[sections.length - 1]
    if (last && item.group !== undefined && last.group === item.group) last.items.push(item)
    else sections.push({ group: item.group, items: [item] })
  }
  return sections
}

export interface Crumb {
  title: string
  /** Where the crumb leads; the page itself (the last crumb) has none. */
  path?: string
}

/**
 * The breadcrumb trail of a console page, from route meta: the user's home page, then the
 * `parent` chain (e.g. 到访记录 for 客户详情), then the page.
 */
export function breadcrumbs(
  routes: readonly RouteRecordRaw[],
  name: string,
  home: string,
  homeTitle = '首页',
  parentPath = '/',
): Crumb[] {
  const byName = new Map(routes.filter((r) => typeof r.name === 'string').map((r) => [r.name as string, r]))
  const trail: Crumb[] = []
  const seen = new Set<string>()
  for (let route = byName.get(name); route && !seen.has(route.name as string);
    route = route.meta?.parent ? byName.get(route.meta.parent) : undefined) {
    seen.add(route.name as string)
    const path = parentPath + route.path
    trail.unshift({ title: route.meta?.title ?? String(route.name), path: path.includes(':') ? undefined : path })
  }
  if (trail[0]?.path !== home) trail.unshift({ title: homeTitle, path: home })
  const last = trail[trail.length - 1]
  if (last) last.path = undefined
  return trail
}
