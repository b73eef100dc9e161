// What the deal views share: the cloud's address and token, the session's project and
// roles, and the customers a document can be written for.
import { edgeApi } from '../api/edge'
import type { MyCustomer } from '../api/types'
import { db } from '../db'
import { useSession } from '../stores/session'
import { approves } from './deals'
import { holdsAny, SELLING_ROLES } from './roles'

export interface CloudLink {
  base: string
  token: string
}

/** The cloud link, or null when no cloud address is set (the views then say so). */
export function cloudLink(): CloudLink | null {
  const s = useSession().data
  return s?.cloud_url ? { base: s.cloud_url, token: s.cloud_access_token } : null
}

export function defaultProject(): number | null {
  const session = useSession()
  return session.data?.default_project_id ?? session.projects[0]?.id ?? null
}

export function roles(): readonly string[] {
  return useSession().user?.roles ?? []
}

export const isApprover = () => approves(roles())
export const isSeller = () => holdsAny(roles(), SELLING_ROLES)

/** My customers the cloud knows (they have a cloud id): the ones a document can be for.
 * The phone's copy of 我的客户, or the appliance's list when the phone has none yet. */
export async function myCloudCustomers(projectId: number | null): Promise<MyCustomer[]> {
  const s = useSession().data
  if (!s) return []
  let all: MyCustomer[] = await db.customers.where('userId').equals(s.user.id).toArray()
  if (!all.length) {
    try {
      all = await edgeApi.customers(s.edge_token)
    } catch {
      all = [] // the appliance away: the customer's own page still offers the way in
    }
  }
  return all.filter((c) => c.customer_ref && (projectId === null || c.project_id === projectId))
}
