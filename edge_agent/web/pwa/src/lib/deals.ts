// 交易单据 on the phone: what the views show and send, kept free of Vue so it is tested
// alone. Deals are decided in the cloud and only there (ADR 0052): nothing here is queued,
// a document is written while the cloud answers or not at all.
import { cloudProblem } from '../api/http'
import type {
  ChangeBody,
  ChangeKind,
  ConvertBody,
  Deal,
  DealBody,
  DealDetail,
  DealStatus,
  PaymentMethod,
  UnitGrid,
} from '../api/types'
import { holdsAny, MANAGING_ROLES } from './roles'

export const OFFLINE_MESSAGE = '连不上云端：认筹、认购须联网办理（以免一套房被卖两次），请稍后再试'

/** The Chinese sentence for a failed call: the cloud's own refusal (底价, 折扣权限, 房源已被
 * 认购…) as it wrote it, or why there was no answer. */
export const problemText = (error: unknown): string => cloudProblem(error, OFFLINE_MESSAGE)

/** Integer fen → "1,480,000.00" (yuan), without passing through a float. */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(Math.trunc(fen))
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`
}

/** Yuan typed on the phone ("1480000", "1,480,000.5") → fen, or null when it is not an
 * amount of money. */
export function fenOf(text: string): number | null {
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text.trim().replace(/[,，\s]/g, ''))
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** "30,000.00 元（1.99%）" off the list price; "无" at or above it. */
export function discountLabel(priceFen: number, listFen: number): string {
  if (!listFen || priceFen >= listFen) return '无'
  const off = listFen - priceFen
  return `${yuan(off)} 元（${((off * 100) / listFen).toFixed(2)}%）`
}

export const STATUS_FILTERS: { value: DealStatus | ''; label: string }[] = [
  { value: '', label: '全部' },
  { value: 'draft', label: '草稿' },
  { value: 'submitted', label: '待审批' },
  { value: 'approved', label: '已审批' },
  { value: 'change_pending', label: '变更审批中' },
  { value: 'overdue', label: '逾期未签' },
  { value: 'converted', label: '已转换' },
]

// What waits for a sales manager on the phone: new documents and asked-for changes.
export const AWAITING: DealStatus[] = ['submitted', 'change_pending']

type Tone = 'primary' | 'success' | 'warning' | 'danger' | 'default'
const TONES: Partial<Record<DealStatus, Tone>> = {
  draft: 'default',
  submitted: 'warning',
  approved: 'success',
  change_pending: 'warning',
  overdue: 'danger',
  converted: 'primary',
}
export const statusTone = (status: DealStatus): Tone => TONES[status] ?? 'default'

/** "周** 135****3601": the document's customer as the cloud names them, masked. */
export const customerOf = (deal: Pick<Deal, 'customer_name_masked' | 'customer_phone_masked'>) =>
  `${deal.customer_name_masked ?? '未留姓名'} ${deal.customer_phone_masked}`

/** Approvers in the cloud's table (cloud/deals/states.py); the cloud checks it again. */
export const approves = (roles: readonly string[]) => holdsAny(roles, MANAGING_ROLES)

export const PAYMENT_OPTIONS: { value: PaymentMethod; label: string }[] = [
  { value: 'full', label: '一次性付款' },
  { value: 'commercial_loan', label: '商业按揭' },
  { value: 'provident_loan', label: '公积金贷款' },
  { value: 'combined_loan', label: '组合贷款' },
  { value: 'installment', label: '分期付款' },
]

export interface UnitOption {
  id: number
  label: string
  list_price_fen: number
}

/** The grid's units a document may be written on: 待售, and 预留 (the cloud accepts it
 * only for the customer it was held for). */
export function sellableUnits(grid: UnitGrid): UnitOption[] {
  return grid.buildings.flatMap((b) =>
    b.floors.flatMap((f) =>
      f.units
        .filter((u) => u.state === 'available' || u.state === 'reserved')
        .map((u) => ({ id: u.id, label: `${b.name}${u.room}`, list_price_fen: u.list_price_fen })),
    ),
  )
}

export interface DealForm {
  kind: 'pledge' | 'subscription'
  unitId: number | null
  buyerName: string
  paymentMethod: PaymentMethod
  /** Yuan as typed; empty for a pledge without a unit. */
  price: string
  amount: string
}

/** The document's body, or the Chinese reason it cannot be sent yet. The floor price and
 * the unit's availability are the cloud's to answer. */
export function dealBody(form: DealForm, customerId: number): DealBody | string {
  const buyer = form.buyerName.trim()
  if (!buyer) return '请填写购房人姓名'
  if (form.kind === 'subscription' && form.unitId === null) return '认购须选择房源'
  const price = form.price.trim() ? fenOf(form.price) : form.unitId === null ? 0 : null
  if (price === null) return form.price.trim() ? '成交价格式不对（元，最多两位小数）' : '请填写成交价'
  const amount = form.amount.trim() ? fenOf(form.amount) : 0
  if (amount === null) return '应收金额格式不对（元，最多两位小数）'
  return {
    kind: form.kind,
    customer_id: customerId,
    unit_id: form.unitId,
    buyer_name: buyer,
    payment_method: form.paymentMethod,
    price_fen: price,
    amount_fen: amount,
  }
}

export interface ConvertForm {
  unitId: number | null
  paymentMethod: PaymentMethod
  /** Yuan; empty keeps the pledge's price. */
  price: string
  amount: string
}

/** 认筹 → 认购: the body, or the Chinese reason it cannot be sent yet. A pledge written
 * without a unit needs one now. */
export function convertBody(form: ConvertForm, pledgeHasUnit: boolean): ConvertBody | string {
  if (!pledgeHasUnit && form.unitId === null) return '认购须选择房源'
  const price = form.price.trim() ? fenOf(form.price) : undefined
  if (price === null) return '成交价格式不对（元，最多两位小数）'
  const amount = form.amount.trim() ? fenOf(form.amount) : 0
  if (amount === null) return '定金格式不对（元，最多两位小数）'
  const body: ConvertBody = { payment_method: form.paymentMethod, amount_fen: amount }
  if (price !== undefined) body.price_fen = price
  if (!pledgeHasUnit && form.unitId !== null) body.unit_id = form.unitId
  return body
}

export const CHANGE_KINDS: { value: ChangeKind; label: string }[] = [
  { value: 'cancel', label: '退房' },
  { value: 'swap', label: '换房' },
  { value: 'rename', label: '更名' },
  { value: 'price', label: '变更价格' },
]

export interface ChangeForm {
  kind: ChangeKind
  reason: string
  newUnitId: number | null
  newBuyerName: string
  /** Yuan; empty keeps the price (换房) or is missing (变更价格). */
  newPrice: string
}

/** The change request's body, or the Chinese reason it cannot be sent yet. */
export function changeBody(form: ChangeForm): ChangeBody | string {
  const reason = form.reason.trim()
  if (!reason) return '请填写变更原因'
  if (form.kind === 'cancel') return { kind: 'cancel', reason }
  if (form.kind === 'rename') {
    const name = form.newBuyerName.trim()
    return name ? { kind: 'rename', reason, new_buyer_name: name } : '请填写新的购房人姓名'
  }
  const price = form.newPrice.trim() ? fenOf(form.newPrice) : undefined
  if (price === null) return '新成交价格式不对（元，最多两位小数）'
  if (form.kind === 'price') {
    return price === undefined ? '请填写新的成交价' : { kind: 'price', reason, new_price_fen: price }
  }
  if (form.newUnitId === null) return '请选择换入的房源'
  const body: ChangeBody = { kind: 'swap', reason, new_unit_id: form.newUnitId }
  if (price !== undefined) body.new_price_fen = price
  return body
}

export interface Step {
  at: string
  title: string
  note: string
}

const CHANGE_STATUS = { pending: '待审批', applied: '已批准', rejected: '已驳回' } as const

/** The document's approval history, oldest first, from its own times and its changes. A
 * rejection sends the document back to draft with the approver's note. */
export function history(deal: DealDetail): Step[] {
  const steps: Step[] = [{ at: deal.created_at, title: `保存${deal.kind_name}草稿`, note: '' }]
  if (deal.submitted_at) steps.push({ at: deal.submitted_at, title: '提交审批', note: '' })
  if (deal.approved_at) steps.push({ at: deal.approved_at, title: '审批通过', note: deal.decision_note })
  else if (deal.status === 'draft' && deal.decision_note) {
    steps.push({ at: deal.submitted_at ?? deal.created_at, title: '被驳回', note: deal.decision_note })
  }
  for (const c of deal.changes) {
    steps.push({ at: c.requested_at, title: `申请${c.kind_name}`, note: c.reason })
    if (c.decided_at) {
      steps.push({ at: c.decided_at, title: `${c.kind_name}${CHANGE_STATUS[c.status]}`, note: c.decision_note })
    }
  }
  return steps.sort((a, b) => a.at.localeCompare(b.at))
}
