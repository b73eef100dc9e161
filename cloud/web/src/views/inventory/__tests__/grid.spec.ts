import { describe, expect, it } from 'vitest'

import type { Grid } from '@/api/inventory'

import { actionsFor, columnsOf, countByState, formatArea, formatWan, pricePerSqm, textOn } from '../grid'

const cell = (id: number, state: Grid['buildings'][number]['floors'][number]['units'][number]['state']) => ({
  id, room: `${id}`, floor: 1, layout: '三室', area_centi: 8950, list_price_fen: 156_800_000,
  floor_price_fen: null, state, hold_until: null, control_reason: '', batch_id: null,
})

describe('销控表 helpers', () => {
  it('offers only the moves the state and the permissions allow', () => {
    const manager = { control: true, manage: true }
    expect(actionsFor('available', manager)).toEqual(['control', 'withdraw'])
    expect(actionsFor('available', { control: true, manage: false })).toEqual(['control'])
    expect(actionsFor('reserved', manager)).toEqual(['unreserve', 'control'])
    expect(actionsFor('controlled', manager)).toEqual(['uncontrol'])
    expect(actionsFor('subscribed', manager)).toEqual([])
    expect(actionsFor('available', { control: false, manage: false })).toEqual([])
  })

  it('shows money in 万 and area in ㎡ from integers', () => {
    expect(formatWan(156_800_000)).toBe('156.80 万')
    expect(formatWan(null)).toBe('—')
    expect(formatArea(8950)).toBe('89.50 ㎡')
    expect(pricePerSqm({ list_price_fen: 156_800_000, area_centi: 8950 })).toBe(17520)
  })

  it('picks readable text on light and dark cells', () => {
    expect(textOn('#ffffff')).toBe('#000000')
    expect(textOn('#37474f')).toBe('#ffffff')
    expect(textOn('#f44336')).toBe('#000000')
    expect(textOn('red')).toBe('#000000')
  })

  it('counts units per state and the widest floor', () => {
    const grid: Grid = {
      project_id: 1, version: 3, full: true, colours: {}, states: [],
      buildings: [{ id: 1, name: '1号楼', floors: [
        { floor: 2, units: [cell(1, 'available'), cell(2, 'signed'), cell(3, 'available')] },
        { floor: 1, units: [cell(4, 'reserved')] },
      ] }],
    }
    expect(countByState(grid)).toEqual({ available: 2, signed: 1, reserved: 1 })
    expect(columnsOf(grid.buildings[0]!.floors)).toBe(3)
    expect(columnsOf([])).toBe(1)
  })
})
