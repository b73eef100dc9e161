// Who is signed in on this phone. Kept in localStorage so the app opens signed in while
// offline; the edge token works without any network until it expires (12 h).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { StaffSession } from '../api/types'
import { holdsAny, MANAGING_ROLES, mayOpen, RECEPTION_ROLES, SITE_STAFF_ROLES } from '../lib/roles'

const KEY = 'anchang.consultant.session'

function load(): StaffSession | null {
  try {
    const raw = localStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as StaffSession) : null
  } catch {
    return null
  }
}

export const useSession = defineStore('session', () => {
  const data = ref<StaffSession | null>(load())

  const user = computed(() => data.value?.user ?? null)
  const edgeTokenValid = computed(
    () => !!data.value && Date.parse(data.value.edge_token_expires_at) > Date.now(),
  )
  const projects = computed(() => data.value?.projects ?? [])
  const roles = computed(() => data.value?.user.roles ?? [])
  // A manager's labels (交易审批, 销售分析) for every managing role, the sales director too.
  const isManager = computed(() => holdsAny(roles.value, MANAGING_ROLES))
  // The appliance checks the role on every 接待管理 route; this only shows the way there.
  const runsReception = computed(() => holdsAny(roles.value, RECEPTION_ROLES))
  // 写跟进 and 来电登记: not a sales director's (the appliance and the cloud refuse them).
  const worksCustomers = computed(() => holdsAny(roles.value, SITE_STAFF_ROLES))
  // 公客池: consultants ask, the sales director decides.
  const usesPool = computed(() => mayOpen('pool', roles.value))

  function save(): void {
    if (data.value) localStorage.setItem(KEY, JSON.stringify(data.value))
    else localStorage.removeItem(KEY)
  }

  function signIn(session: StaffSession): void {
    data.value = session
    save()
  }

  function signOut(): void {
    data.value = null
    save()
  }

  return { data, user, edgeTokenValid, projects, roles, isManager, runsReception, worksCustomers, usesPool, signIn, signOut }
})
