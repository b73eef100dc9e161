import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { StaffSession } from '../../api/types'
import { useSession } from '../session'

function session(roles: string[]): StaffSession {
  return {
    edge_token: 'edge',
    edge_token_expires_at: '2099-01-01T00:00:00Z',
    cloud_access_token: 'cloud',
    cloud_url: null,
    site_id: 'site-a',
    user: { id: 7, name: '周总', roles },
    projects: [{ id: 1, name: '滨江壹号' }],
    default_project_id: 1,
  }
}

beforeEach(() => {
  const kept = new Map<string, string>()
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => kept.get(k) ?? null,
    setItem: (k: string, v: string) => void kept.set(k, v),
    removeItem: (k: string) => void kept.delete(k),
  })
  setActivePinia(createPinia())
})

describe('who the phone speaks to as a manager', () => {
  it('calls the sales director a manager, but leaves 接待管理 and the customers\' work to others', () => {
    const s = useSession()
    s.signIn(session(['sales_director']))
    expect(s.isManager).toBe(true)
    expect(s.runsReception).toBe(false)
    expect(s.worksCustomers).toBe(false) // no 写跟进, no 来电登记: not in the consultants' figures
  })

  it('gives the sales manager all three', () => {
    const s = useSession()
    s.signIn(session(['sales_manager']))
    expect(s.isManager).toBe(true)
    expect(s.runsReception).toBe(true)
    expect(s.worksCustomers).toBe(true)
  })

  it('keeps a consultant a consultant, and nobody a manager once signed out', () => {
    const s = useSession()
    s.signIn(session(['consultant']))
    expect(s.isManager).toBe(false)
    expect(s.runsReception).toBe(false)
    expect(s.worksCustomers).toBe(true)
    s.signIn(session(['consultant', 'sales_director']))
    expect(s.isManager).toBe(true)
    s.signOut()
    expect(s.isManager).toBe(false)
  })

  it('reads the roles back from what the phone kept', () => {
    useSession().signIn(session(['sales_director']))
    setActivePinia(createPinia())
    expect(useSession().isManager).toBe(true)
  })
})
