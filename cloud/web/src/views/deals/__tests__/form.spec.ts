import { describe, expect, it } from 'vitest'

import type { Grid } from '@/api/inventory'

import { type ChangeForm, changeBody, coBuyersBody, fenOf, sellableUnits } from '../form'

function cell(id: number, room: string, state: Grid['buildings'][0]['floors'][0]['units'][0]['state']) {
  return {
    id, room, floor: 1, layout: '三房', area_centi: 9000, list_price_fen: 300_000_000,
    floor_price_fen: null, state, hold_until: null, control_reason: '', batch_id: 1,
  }
}

const GRID: Grid = {
  project_id: 1, version: 1, full: true, colours: {}, states: [],
  buildings: [{
    id: 1, name: '1号楼', floors: [
      { floor: 2, units: [cell(3, '0201', 'available'), cell(4, '0202', 'subscribed')] },
      { floor: 1, units: [cell(1, '0101', 'reserved'), cell(2, '0102', 'controlled')] },
    ],
  }],
}

function form(over: Partial<ChangeForm>): ChangeForm {
  return { kind: 'cancel', reason: '客户资金问题', newUnitId: null, newBuyerName: '', newPrice: null, ...over }
}

describe('deal form', () => {
  it('turns yuan into fen without float drift', () => {
    expect(fenOf(1234567.89)).toBe(123456789)
    expect(fenOf(0.29)).toBe(29)
    expect(fenOf(null)).toBe(0)
  })

  it('offers only available and reserved units, labelled by building and room', () => {
    expect(sellableUnits(GRID).map((u) => [u.id, u.label])).toEqual([[3, '1号楼0201'], [1, '1号楼0101']])
  })

  it('builds each change with what it needs, or says what is missing', () => {
    expect(changeBody(form({ reason: '  ' }))).toBe('请填写变更原因')
    expect(changeBody(form({}))).toEqual({ kind: 'cancel', reason: '客户资金问题' })
    expect(changeBody(form({ kind: 'rename' }))).toBe('请填写新的购房人姓名')
    expect(changeBody(form({ kind: 'rename', newBuyerName: ' 王五 ' }))).toEqual(
      { kind: 'rename', reason: '客户资金问题', new_buyer_name: '王五' })
    expect(changeBody(form({ kind: 'price' }))).toBe('请填写新的成交价')
    expect(changeBody(form({ kind: 'price', newPrice: 2_900_000.5 }))).toEqual(
      { kind: 'price', reason: '客户资金问题', new_price_fen: 290_000_050 })
    expect(changeBody(form({ kind: 'swap' }))).toBe('请选择换入的房源')
    expect(changeBody(form({ kind: 'swap', newUnitId: 3 }))).toEqual(
      { kind: 'swap', reason: '客户资金问题', new_unit_id: 3 })
  })
})

describe('coBuyersBody', () => {
  it('drops empty rows and trims the rest', () => {
    expect(coBuyersBody([{ name: ' 李雷 ', phone: '13655550002 ' }, { name: '', phone: '' }]))
      .toEqual([{ name: '李雷', phone: '13655550002' }])
  })

  it('says what is missing or too many', () => {
    expect(coBuyersBody([{ name: '李雷', phone: '' }])).toBe('请填写共同购买人的姓名和手机号')
    const five = Array.from({ length: 5 }, (_, i) => ({ name: `甲${i}`, phone: `1365555000${i}` }))
    expect(coBuyersBody(five)).toBe('共同购买人最多 4 人')
  })
})
