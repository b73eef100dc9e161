import { describe, expect, it } from 'vitest'

import { ApiError, CLOUD_EXPIRED_MESSAGE, NetworkError } from '../../api/http'
import type { DealDetail, UnitGrid } from '../../api/types'
import {
  approves,
  changeBody,
  convertBody,
  customerOf,
  dealBody,
  discountLabel,
  fenOf,
  history,
  OFFLINE_MESSAGE,
  problemText,
  sellableUnits,
  yuan,
} from '../deals'

const form = {
  kind: 'subscription' as const,
  unitId: 7,
  buyerName: ' 赵敏 ',
  paymentMethod: 'commercial_loan' as const,
  price: '1,480,000',
  amount: '50000.5',
}

function detail(over: Partial<DealDetail>): DealDetail {
  return {
    id: 3, project_id: 1, customer_id: 9, customer_name_masked: '周**',
    customer_phone_masked: '135****3601', unit_id: 7, unit_label: '5号楼101', parent_id: null,
    kind: 'subscription', kind_name: '认购', status: 'draft', status_name: '草稿', buyer_name: '赵*',
    payment_method: 'full', payment_method_name: '一次性付款', price_fen: 0, list_price_fen: 0,
    floor_price_fen: null, amount_fen: 0, carried_fen: 0, consultant_id: 1, consultant_name: '王磊',
    created_by: 1, created_at: '2026-11-28T01:00:00Z', submitted_at: null, approved_at: null,
    contract_due_at: null, decision_note: '', ended_reason: '', received_fen: 0, changes: [],
    payments: [], lowest_approvable_fen: null, signing_location: null, signing_place_source: null,
    ...over,
  }
}

describe('money', () => {
  it('shows fen as yuan with thousands and two decimals', () => {
    expect(yuan(148_000_000)).toBe('1,480,000.00')
    expect(yuan(5)).toBe('0.05')
    expect(yuan(-12_345)).toBe('-123.45')
  })

  it('reads typed yuan into fen without float drift, refusing what is not money', () => {
    expect(fenOf('1,480,000')).toBe(148_000_000)
    expect(fenOf('0.29')).toBe(29) // 0.29 * 100 is 28.999… as a float
    expect(fenOf(' 12.5 ')).toBe(1250)
    expect(fenOf('1.234')).toBeNull()
    expect(fenOf('-5')).toBeNull()
    expect(fenOf('')).toBeNull()
  })

  it('names the discount from the list price in yuan and percent', () => {
    expect(discountLabel(148_000_000, 151_000_000)).toBe('30,000.00 元（1.99%）')
    expect(discountLabel(151_000_000, 151_000_000)).toBe('无')
  })
})

describe('a new document', () => {
  it('becomes the cloud body with fen and the trimmed buyer', () => {
    expect(dealBody(form, 9)).toEqual({
      kind: 'subscription', customer_id: 9, unit_id: 7, buyer_name: '赵敏',
      payment_method: 'commercial_loan', price_fen: 148_000_000, amount_fen: 5_000_050,
    })
  })

  it('says in Chinese what is missing before anything is sent', () => {
    expect(dealBody({ ...form, buyerName: '  ' }, 9)).toBe('请填写购房人姓名')
    expect(dealBody({ ...form, unitId: null }, 9)).toBe('认购须选择房源')
    expect(dealBody({ ...form, price: '' }, 9)).toBe('请填写成交价')
    expect(dealBody({ ...form, price: '一百万' }, 9)).toBe('成交价格式不对（元，最多两位小数）')
    expect(dealBody({ ...form, amount: '1.001' }, 9)).toBe('应收金额格式不对（元，最多两位小数）')
  })

  it('lets a pledge go without a unit or a price', () => {
    const body = dealBody({ ...form, kind: 'pledge', unitId: null, price: '', amount: '20000' }, 9)
    expect(body).toMatchObject({ kind: 'pledge', unit_id: null, price_fen: 0, amount_fen: 2_000_000 })
  })
})

describe('a pledge converted', () => {
  const convert = { unitId: null, paymentMethod: 'full' as const, price: '', amount: '' }

  it("keeps the pledge's unit and price unless it had no unit", () => {
    expect(convertBody(convert, true)).toEqual({ payment_method: 'full', amount_fen: 0 })
    expect(convertBody({ ...convert, unitId: 8 }, true)).not.toHaveProperty('unit_id')
    expect(convertBody(convert, false)).toBe('认购须选择房源')
    expect(convertBody({ ...convert, unitId: 8, price: '1500000', amount: '100000' }, false)).toEqual({
      payment_method: 'full', unit_id: 8, price_fen: 150_000_000, amount_fen: 10_000_000 })
    expect(convertBody({ ...convert, amount: 'abc' }, true)).toBe('定金格式不对（元，最多两位小数）')
  })
})

describe('a change request', () => {
  const change = { kind: 'swap' as const, reason: '换到高层', newUnitId: 8, newBuyerName: '', newPrice: '' }

  it('keeps the price of a swap unless a new one is typed', () => {
    expect(changeBody(change)).toEqual({ kind: 'swap', reason: '换到高层', new_unit_id: 8 })
    expect(changeBody({ ...change, newPrice: '1500000' })).toMatchObject({ new_price_fen: 150_000_000 })
  })

  it('needs a reason and what each kind changes', () => {
    expect(changeBody({ ...change, reason: ' ' })).toBe('请填写变更原因')
    expect(changeBody({ ...change, newUnitId: null })).toBe('请选择换入的房源')
    expect(changeBody({ ...change, kind: 'price' })).toBe('请填写新的成交价')
    expect(changeBody({ ...change, kind: 'rename' })).toBe('请填写新的购房人姓名')
    expect(changeBody({ ...change, kind: 'cancel' })).toEqual({ kind: 'cancel', reason: '换到高层' })
  })
})

describe('answers from the cloud', () => {
  it("shows the cloud's refusal as written, and no answer as online-only", () => {
    const taken = new ApiError({ status: 409, code: 'deal_unit_taken', detail: '该房源已被认筹、认购或签约，不能重复成交' })
    expect(problemText(taken)).toBe('该房源已被认筹、认购或签约，不能重复成交')
    expect(problemText(new NetworkError('timeout'))).toBe(OFFLINE_MESSAGE)
    expect(problemText(new ApiError({ status: 502, code: 'http_502', detail: 'x' }))).toBe(OFFLINE_MESSAGE)
    expect(problemText(new ApiError({ status: 401, code: 'unauthorized', detail: 'x' }))).toBe(CLOUD_EXPIRED_MESSAGE)
  })
})

describe('history and units', () => {
  it('lists the steps oldest first, with a rejection note and the changes', () => {
    const rejected = detail({ submitted_at: '2026-11-28T02:00:00Z', decision_note: '价格太低' })
    expect(history(rejected).map((s) => s.title)).toEqual(['保存认购草稿', '提交审批', '被驳回'])
    const changed = detail({
      status: 'approved', submitted_at: '2026-11-28T02:00:00Z', approved_at: '2026-11-28T03:00:00Z',
      decision_note: '同意',
      changes: [{ id: 1, deal_id: 3, kind: 'rename', kind_name: '更名', new_unit_id: null, new_price_fen: null,
        renamed: true, reason: '加名', status: 'rejected', requested_by: 1, requested_at: '2026-11-28T04:00:00Z',
        decided_at: '2026-11-28T05:00:00Z', decision_note: '资料不全' }],
    })
    expect(history(changed).map((s) => `${s.title}${s.note}`)).toEqual([
      '保存认购草稿', '提交审批', '审批通过同意', '申请更名加名', '更名已驳回资料不全'])
  })

  it('offers only 待售 and 预留 units, named building and room', () => {
    const unit = (id: number, room: string, state: string) => ({
      id, room, floor: 1, layout: '三室', area_centi: 9000, list_price_fen: 100, state, hold_until: null })
    const grid: UnitGrid = {
      project_id: 1, version: 1, colours: {}, states: [],
      buildings: [{ id: 1, name: '5号楼', floors: [{ floor: 1, units: [
        unit(1, '101', 'available'), unit(2, '102', 'subscribed'), unit(3, '103', 'reserved')] }] }],
    }
    expect(sellableUnits(grid).map((u) => u.label)).toEqual(['5号楼101', '5号楼103'])
  })

  it('names the customer as the cloud masked them, a nameless one too', () => {
    expect(customerOf(detail({}))).toBe('周** 135****3601')
    expect(customerOf(detail({ customer_name_masked: null }))).toBe('未留姓名 135****3601')
  })

  it('knows approvers by role', () => {
    expect(approves(['sales_manager'])).toBe(true)
    expect(approves(['sales_director'])).toBe(true)
    expect(approves(['consultant'])).toBe(false)
  })
})
