import { describe, expect, it } from 'vitest'

import routes from '../../router.ts?raw'
import { mayOpen, PAGE_ROLES } from '../roles'

describe('pages by role, also when a link is typed', () => {
  it('keeps a sales director out of the consultants’ writing pages', () => {
    const director = ['sales_director']
    for (const page of ['follow-up', 'calls', 'deal-new', 'reception', 'face-consent']) {
      expect(mayOpen(page, director), page).toBe(false)
    }
    for (const page of ['today', 'customers', 'customer', 'units', 'deals', 'deal', 'analysis', 'queue']) {
      expect(mayOpen(page, director), page).toBe(true)
    }
  })

  it('opens reception to a sales manager only, writing to consultants and managers', () => {
    expect(mayOpen('reception', ['consultant'])).toBe(false)
    expect(mayOpen('reception', ['sales_manager'])).toBe(true)
    for (const page of ['follow-up', 'calls', 'deal-new']) {
      expect(mayOpen(page, ['consultant']), page).toBe(true)
      expect(mayOpen(page, ['sales_manager']), page).toBe(true)
    }
  })

  it('names only pages the router has', () => {
    for (const page of Object.keys(PAGE_ROLES)) expect(routes).toContain(`name: '${page}'`)
  })
})
