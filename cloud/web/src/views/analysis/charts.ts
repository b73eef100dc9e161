import type { EChartsCoreOption } from '@/plugins/echarts'
import type { FigureRow, FunnelRow, IntentionCell, SellThroughRow } from '@/api/salesAnalysis'
import { crossTable } from '@/api/salesAnalysis'
import { CHART_COLORS, countAxis, funnelChart } from '@/utils/charts'

/** 到访组数, 认购, 签约 and 净签约 side by side per group. */
export function figuresOption(items: FigureRow[]): EChartsCoreOption {
  const bars: [string, keyof FigureRow][] = [
    ['到访组数', 'visits'],
    ['认购', 'subscriptions'],
    ['签约', 'contracts'],
    ['净签约', 'net_contracts'],
  ]
  return {
    color: CHART_COLORS,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { data: bars.map(([name]) => name), top: 0, right: 0 },
    grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: items.map((r) => r.label), axisTick: { show: false } },
    yAxis: countAxis,
    series: bars.map(([name, key]) => ({ name, type: 'bar', barMaxWidth: 22, data: items.map((r) => r[key]) })),
  }
}

/** 储客 → 跟客 → 成交 of the total. */
export function funnelOption(total: FunnelRow): EChartsCoreOption {
  return funnelChart([
    { name: '储客', value: total.stored },
    { name: '跟客', value: total.followed },
    { name: '成交', value: total.bought },
  ])
}

/** Released and sold units per batch (or layout), 去化率 on the sold bar. */
export function sellThroughOption(items: SellThroughRow[]): EChartsCoreOption {
  return {
    color: ['#94a3b8', '#dc2626'],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { data: ['已推', '已售'], top: 0, right: 0 },
    grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: items.map((r) => r.label), axisTick: { show: false } },
    yAxis: countAxis,
    series: [
      { name: '已推', type: 'bar', barMaxWidth: 26, data: items.map((r) => r.released) },
      {
        name: '已售',
        type: 'bar',
        barMaxWidth: 26,
        data: items.map((r) => ({ value: r.sold, rate: r.sell_through })),
        label: {
          show: true,
          position: 'top',
          formatter: (p: { data: { rate: number | null } }) =>
            p.data.rate === null ? '' : `${(p.data.rate * 100).toFixed(1)}%`,
        },
      },
    ],
  }
}

/** Visits per group stacked by the intention field's values. */
export function intentionOption(cells: IntentionCell[]): EChartsCoreOption {
  const { values, rows } = crossTable(cells)
  return {
    color: CHART_COLORS,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { data: values.map((v) => v.label), top: 0, right: 0, type: 'scroll' },
    grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: rows.map((r) => r.label), axisTick: { show: false } },
    yAxis: countAxis,
    series: values.map((v) => ({
      name: v.label,
      type: 'bar',
      stack: 'visits',
      barMaxWidth: 36,
      data: rows.map((r) => r.counts[String(v.value)] ?? 0),
    })),
  }
}
