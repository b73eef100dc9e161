/** What the 销控 pages compute from the grid: labels, money, colours, offered actions. */
import type { ConsoleAction, Grid, UnitCell, UnitState } from '@/api/inventory'

export const STATE_NAMES: Record<UnitState, string> = {
  unreleased: '未推盘', available: '待售', reserved: '预留', controlled: '销控',
  pledged: '认筹', subscribed: '认购', signed: '签约', delivered: '已交付',
}

export const ACTION_NAMES: Record<string, string> = {
  release: '推盘', withdraw: '撤盘', reserve: '预留', unreserve: '取消预留', expire: '预留到期',
  control: '销控', uncontrol: '解除销控', pledge: '认筹', subscribe: '认购', sign: '签约',
  deliver: '交付', return: '退房',
}

/** The console's moves from each state (the server's table decides again). */
const MOVES: Partial<Record<UnitState, ConsoleAction[]>> = {
  available: ['control', 'withdraw'],
  reserved: ['unreserve', 'control'],
  controlled: ['uncontrol'],
}

/** Withdrawing needs the manage permission; the rest the control permission. */
export function actionsFor(
  state: UnitState, can: { control: boolean; manage: boolean },
): ConsoleAction[] {
  return (MOVES[state] ?? []).filter((a) => (a === 'withdraw' ? can.manage : can.control))
}

/** "156.80 万" from fen. */
export function formatWan(fen: number | null): string {
  if (fen === null) return '—'
  return `${(fen / 1_000_000).toFixed(2)} 万`
}

/** "89.50 ㎡" from hundredths of a square metre. */
export function formatArea(centi: number): string {
  return `${(centi / 100).toFixed(2)} ㎡`
}

/** Unit price (单价), yuan per m², rounded. */
export function pricePerSqm(cell: Pick<UnitCell, 'list_price_fen' | 'area_centi'>): number {
  return Math.round(cell.list_price_fen / cell.area_centi)
}

/** Black or white text, whichever reads better on the cell's colour (WCAG luminance). */
export function textOn(hex: string): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
  if (!match) return '#000000'
  const [r, g, b] = match.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
  return luminance > 0.179 ? '#000000' : '#ffffff'
}

/** How many units of the grid are in each state (the legend's counts). */
export function countByState(grid: Grid): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const building of grid.buildings) {
    for (const floor of building.floors) {
      for (const unit of floor.units) counts[unit.state] = (counts[unit.state] ?? 0) + 1
    }
  }
  return counts
}

/** The widest floor of a building: the grid's number of columns. */
export function columnsOf(floors: Grid['buildings'][number]['floors']): number {
  return Math.max(1, ...floors.map((f) => f.units.length))
}
