// The site roles the phone shows its ways by, as the cloud names them
// (cloud/identity/permissions.py). Each list mirrors the server's check; the server
// checks again.

/** Roles that lead a sales team: they approve documents (cloud/deals/states.py) and read
 * the whole project's 销售分析 (sales:analysis:all), so the phone speaks to them as managers. */
export const MANAGING_ROLES = ['sales_manager', 'sales_director'] as const

/** Roles the appliance lets run 接待管理 (shared/follow_ups.py MANAGER_ROLES). */
export const RECEPTION_ROLES = ['sales_manager'] as const

/** Roles that work the office's customers: write follow-ups, register calls they answered
 * (shared/roster.py SITE_STAFF_ROLES). A sales director signs in to approve and to read,
 * and stays out of the consultants' figures. */
export const SITE_STAFF_ROLES = ['consultant', 'sales_manager'] as const

/** Roles that write and move documents (cloud/deals/states.py _SELLERS). */
export const SELLING_ROLES = ['consultant', 'sales_manager'] as const

/** Roles that ask to take a customer from the 公客池 (sales:pool:pickup). */
export const POOL_PICKER_ROLES = ['consultant'] as const

/** Roles that decide those requests (sales:pool:approve): the sales director. */
export const POOL_APPROVER_ROLES = ['sales_director'] as const

/** Whether any of `roles` is in `list`. */
export const holdsAny = (roles: readonly string[], list: readonly string[]): boolean =>
  roles.some((r) => list.includes(r))

/** Who may open a page, by route name (any of the roles; a page not listed: anyone signed
 * in). The router checks it, so a typed or bookmarked link is held to it as well as the
 * menus; the appliance and the cloud check again. */
export const PAGE_ROLES: Readonly<Record<string, readonly string[]>> = {
  'follow-up': SITE_STAFF_ROLES,
  calls: SITE_STAFF_ROLES,
  reception: RECEPTION_ROLES,
  'face-consent': RECEPTION_ROLES,
  'deal-new': SELLING_ROLES,
  pool: [...POOL_PICKER_ROLES, ...POOL_APPROVER_ROLES],
}

/** Whether a user holding `roles` may open the page named `page`. */
export const mayOpen = (page: string, roles: readonly string[]): boolean => {
  const needs = PAGE_ROLES[page]
  return !needs || holdsAny(roles, needs)
}
