import type { EChartsCoreOption } from '@/plugins/echarts'

/** The console's chart palette, in the order series take it. */
export const CHART_COLORS = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#9333ea', '#0891b2', '#64748b', '#db2777']

/** A y axis of counts: whole steps, dashed grid lines. */
export const countAxis = { type: 'value', minInterval: 1, splitLine: { lineStyle: { type: 'dashed' } } }

/** A conversion funnel of named stages, in the order given (not sorted by size). */
export function funnelChart(stages: { name: string; value: number }[], colors = CHART_COLORS): EChartsCoreOption {
  return {
    color: colors,
    tooltip: { trigger: 'item', formatter: '{b}：{c}' },
    series: [
      {
        type: 'funnel',
        sort: 'none',
        left: '10%',
        width: '80%',
        minSize: '30%',
        label: { show: true, position: 'inside', formatter: '{b} {c}' },
        data: stages,
      },
    ],
  }
}
