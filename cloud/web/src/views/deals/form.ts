import type { ChangeKind, ChangeRequest } from '@/api/deals'
import type { Grid, UnitState } from '@/api/inventory'

export interface UnitOption {
  id: number
  label: string
  list_price_fen: number
}

// States a new document or a 换房 may take a unit from (the server decides; this only
// keeps the list short): 待售, and 预留 for the customer it was held for.
const SELLABLE: readonly UnitState[] = ['available', 'reserved']

/** Yuan typed in the form → integer fen (never through a float sum). */
export function fenOf(yuan: number | null | undefined): number {
  return yuan === null || yuan === undefined ? 0 : Math.round(yuan * 100)
}

/** The grid's units a document may be written on, building by building, floor by floor. */
export function sellableUnits(grid: Grid): UnitOption[] {
  return grid.buildings.flatMap((b) =>
    b.floors.flatMap((f) =>
      f.units
        .filter((u) => SELLABLE.includes(u.state))
        .map((u) => ({ id: u.id, label: `${b.name}${u.room}`, list_price_fen: u.list_price_fen })),
    ),
  )
}

export interface ChangeForm {
  kind: ChangeKind
  reason: string
  newUnitId: number | null
  newBuyerName: string
  /** Yuan; null keeps the price (换房) or is missing (变更价格). */
  newPrice: number | null
}

/** The change request's body, or the Chinese reason it cannot be sent yet. */
export function changeBody(form: ChangeForm): ChangeRequest | string {
  const reason = form.reason.trim()
  if (!reason) return '请填写变更原因'
  if (form.kind === 'cancel') return { kind: 'cancel', reason }
  if (form.kind === 'rename') {
    const name = form.newBuyerName.trim()
    return name ? { kind: 'rename', reason, new_buyer_name: name } : '请填写新的购房人姓名'
  }
  if (form.kind === 'price') {
    return form.newPrice === null ? '请填写新的成交价' : { kind: 'price', reason, new_price_fen: fenOf(form.newPrice) }
  }
  if (form.newUnitId === null) return '请选择换入的房源'
  const body: ChangeRequest = { kind: 'swap', reason, new_unit_id: form.newUnitId }
  if (form.newPrice !== null) body.new_price_fen = fenOf(form.newPrice)
  return body
}

export interface CoBuyerRow {
  name: string
  phone: string
}

export const MAX_CO_BUYERS = 4

/** The co-buyers (共同购买人) to send: empty rows dropped; a half-filled row or too many
 *  is the Chinese reason they cannot be sent yet (the server checks the numbers). */
export function coBuyersBody(rows: CoBuyerRow[]): CoBuyerRow[] | string {
  const filled = rows
    .map((r) => ({ name: r.name.trim(), phone: r.phone.trim() }))
    .filter((r) => r.name || r.phone)
  if (filled.some((r) => !r.name || !r.phone)) return '请填写共同购买人的姓名和手机号'
  if (filled.length > MAX_CO_BUYERS) return `共同购买人最多 ${MAX_CO_BUYERS} 人`
  return filled
}
