import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

import { type PermissionRequirement, hasPermission } from './permissions'

export interface MenuItem {
  name: string
  path: string
  title: string
  icon: Component
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
      item: { name: route.name, path: parentPath + route.path, title: route.meta?.title ?? route.name, icon: menu.icon },
    })
  }
  return entries.sort((a, b) => a.order - b.order).map((e) => e.item)
}
