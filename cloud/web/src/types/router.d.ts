/** Route meta, typed in this one place: the menu, titles and page access read it. */
import type { Component } from 'vue'
import 'vue-router'

import type { PermissionRequirement } from '@/access/permissions'

export {}

declare module 'vue-router' {
  interface RouteMeta {
    /** Page title (browser tab, header). */
    title?: string
    /** Reachable without signing in (the login page). */
    public?: boolean
    /** Open while a password change is due (the change-password page). */
    allowPendingPassword?: boolean
    /** Needed to open the page; without it the 403 page shows instead. */
    permission?: PermissionRequirement
    /** The route name of the page this one is reached from: its breadcrumb and menu item. */
    parent?: string
    /** Shown in the side menu, ordered by `order`, when the user holds `permission`;
     * items of one `group` are shown together under its title (e.g. 渠道). A page is a
     * user's landing page only if they also hold `homeWhen`, when it is given. */
    menu?: { icon: Component; order: number; group?: string; homeWhen?: PermissionRequirement }
  }
}
