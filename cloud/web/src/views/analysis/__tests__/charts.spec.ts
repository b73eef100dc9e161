import { describe, expect, it } from 'vitest'

import type { IntentionCell, SellThroughRow } from '@/api/salesAnalysis'
import { crossTable, rate, wan } from '@/api/salesAnalysis'

import { intentionOption, sellThroughOption } from '../charts'

type Series = { name: string; data: unknown[] }[]

const cells: IntentionCell[] = [
  { key: 1, label: '张三', value: 'A', value_label: 'A 级', visits: 2 },
  { key: 1, label: '张三', value: null, value_label: '未填写', visits: 1 },
  { key: 2, label: '李四', value: 'B', value_label: 'B 级', visits: 3 },
]

describe('sales analysis charts', () => {
  it('turns intention cells into a cross table with a zero where a group gave no answer', () => {
    const { values, rows } = crossTable(cells)
    expect(values.map((v) => v.label)).toEqual(['A 级', '未填写', 'B 级'])
    expect(rows.map((r) => [r.label, r.total])).toEqual([
      ['张三', 3],
      ['李四', 3],
    ])
    const series = intentionOption(cells).series as Series
    expect(series.map((s) => [s.name, s.data])).toEqual([
      ['A 级', [2, 0]],
      ['未填写', [1, 0]],
      ['B 级', [0, 3]],
    ])
  })

  it('labels the sold bar with 去化率 and leaves an unknown rate blank', () => {
    const items: SellThroughRow[] = [
      { key: 1, label: '首开', released: 4, sold: 3, sold_area_centi: 0, sell_through: 0.75 },
      { key: 2, label: '加推', released: 0, sold: 0, sold_area_centi: 0, sell_through: null },
    ]
    const sold = (sellThroughOption(items).series as Series)[1] as unknown as {
      data: { value: number; rate: number | null }[]
      label: { formatter: (p: { data: { rate: number | null } }) => string }
    }
    expect(sold.data.map((d) => sold.label.formatter({ data: d }))).toEqual(['75.0%', ''])
  })

  it('shows rates as percentages and money in 万元', () => {
    expect(rate(null)).toBe('—')
    expect(rate(0.3333)).toBe('33.3%')
    expect(wan(320_000_000)).toBe('320.00')
  })
})
