import type { Role } from '@/api/users'

/** The three administrators (三员分立), as cloud/identity/permissions.py ADMIN_ROLES. */
export const ADMIN_ROLES: readonly string[] = ['sys_admin', 'security_admin', 'audit_admin']
/** Permissions that show personal data unmasked (PERSONAL_DATA_PERMS on the server). */
const PERSONAL_DATA_PERMS: readonly string[] = ['sales:customer:unmask', 'sales:customer:contact']

/**
 * The selected roles that unmask personal data, when an administrator role is selected
 * too: the server saves that combination only with the security administrator's explicit,
 * audited grant.
 */
export function rolesNeedingGrant(selected: readonly string[], roles: readonly Role[]): Role[] {
  if (!selected.some((code) => ADMIN_ROLES.includes(code))) return []
  return roles.filter(
    (role) => selected.includes(role.code) && role.permissions.some((p) => PERSONAL_DATA_PERMS.includes(p)),
  )
}
