/**
 * Permission codes, mirrored from cloud/identity/permissions.py (`domain:object:action`).
 * The menu, page access and buttons follow them; the server checks every one again.
 */
export const Perm = {
  USER_READ: 'identity:user:read',
  USER_MANAGE: 'identity:user:manage',
  ROLE_READ: 'identity:role:read',
  ROLE_ASSIGN: 'identity:role:assign',
  AUDIT_READ: 'audit:log:read',
  AUDIT_EXPORT: 'audit:log:export',
  SITE_READ: 'catalog:site:read',
  SITE_MANAGE: 'catalog:site:manage',
  SITE_LOCATE: 'catalog:site:locate',
  PROJECT_READ: 'catalog:project:read',
  CUSTOMER_READ: 'sales:customer:read',
  CUSTOMER_UNMASK: 'sales:customer:unmask',
  VISIT_READ: 'sales:visit:read',
  VISIT_EXPORT: 'sales:visit:export',
  FOLLOW_UP_READ: 'sales:followup:read',
  POOL_PICKUP: 'sales:pool:pickup',
  POOL_APPROVE: 'sales:pool:approve',
  OWNERSHIP_ASSIGN: 'sales:ownership:assign',
  SYNC_READ: 'sync:site:read',
  PRIVACY_REQUEST: 'privacy:request:manage',
  FACES_READ: 'faces:site:read',
  FACES_CONFIGURE: 'faces:site:configure',
  FACE_DATA_READ: 'faces:data:read',
  AGENCY_READ: 'channel:agency:read',
  AGENCY_MANAGE: 'channel:agency:manage',
  BROKER_READ: 'channel:broker:read',
  BROKER_MANAGE: 'channel:broker:manage',
  CHANNEL_RULES_READ: 'channel:rules:read',
  CHANNEL_RULES_PUBLISH: 'channel:rules:publish',
  REFERRAL_READ: 'channel:referral:read',
  ATTRIBUTION_READ: 'channel:attribution:read',
  REFERRAL_REVIEW: 'channel:referral:review',
  CAMPAIGN_MANAGE: 'channel:campaign:manage',
  TASK_READ: 'channel:task:read',
  TASK_MANAGE: 'channel:task:manage',
  PROJECT_PROFILE_MANAGE: 'channel:profile:manage',
  APPEAL_READ: 'channel:appeal:read',
  APPEAL_DECIDE: 'channel:appeal:decide',
  RISK_READ: 'channel:risk:read',
  RISK_REVIEW: 'channel:risk:review',
  RISK_CONFIGURE: 'channel:risk:configure',
  ANALYTICS_READ: 'channel:analytics:read',
  ANALYTICS_EXPORT: 'channel:analytics:export',
  LEAD_READ: 'channel:lead:read',
  INVENTORY_READ: 'inventory:unit:read',
  INVENTORY_READ_ALL: 'inventory:unit:read_all',
  INVENTORY_MANAGE: 'inventory:unit:manage',
  INVENTORY_CONTROL: 'inventory:unit:control',
  INVENTORY_HOLD_REQUEST: 'inventory:hold:request',
  DEAL_READ: 'deals:deal:read',
  DEAL_READ_ALL: 'deals:deal:read_all',
  DEAL_CREATE: 'deals:deal:create',
  DEAL_APPROVE: 'deals:deal:approve',
  SALES_ANALYSIS_READ: 'sales:analysis:read',
  SALES_ANALYSIS_ALL: 'sales:analysis:all',
  DEAL_CONFIGURE: 'deals:settings:manage',
  RECEPTION_CONFIGURE: 'reception:settings:manage',
} as const

export type PermissionCode = (typeof Perm)[keyof typeof Perm]

/** One code, several of which the user needs every one, or (`anyOf`) several of which
 * one is enough — a page that shows each holder their part. */
export type PermissionRequirement = PermissionCode | readonly PermissionCode[] | { readonly anyOf: readonly PermissionCode[] }

/** The customer page shows the customer, their visits and their follow-ups. */
export const CUSTOMER_PAGE: PermissionRequirement = [Perm.CUSTOMER_READ, Perm.VISIT_READ, Perm.FOLLOW_UP_READ]

/** 案场设备: the appliances' sync status (operations, HQ) and the sites' positions (HQ and
 * the channel manager, who set them for the far-signing check, ADR 0060). */
export const SITES_PAGE: PermissionRequirement = { anyOf: [Perm.SYNC_READ, Perm.SITE_LOCATE] }

/** The appeals page is channel staff's: brokers read their appeals in the H5. */
export const APPEALS_PAGE: PermissionRequirement = [Perm.APPEAL_READ, Perm.RISK_READ, Perm.PROJECT_READ]

export function hasPermission(
  granted: ReadonlySet<string>,
  required: PermissionRequirement | undefined,
): boolean {
  if (required === undefined) return true
  if (typeof required === 'object' && 'anyOf' in required) return required.anyOf.some((code) => granted.has(code))
  const codes: readonly PermissionCode[] = typeof required === 'string' ? [required] : required
  return codes.every((code) => granted.has(code))
}
