import type { EChartsCoreOption } from '@/plugins/echarts'
import type { Performance, RankBy, Ranking, Stages } from '@/api/channelAnalytics'
import { countAxis, funnelChart } from '@/utils/charts'

const COLORS = ['#2563eb', '#16a34a', '#f59e0b', '#9333ea']

/** The funnel 报备 → 有效报备 → 到访 → 判客有效 (→ 认购 once deals are recorded). */
export function funnelOption(total: Stages): EChartsCoreOption {
  const stages: { name: string; value: number }[] = [
    { name: '报备', value: total.referrals },
    { name: '有效报备', value: total.valid },
    { name: '到访', value: total.visited },
    { name: '判客有效', value: total.attributed },
  ]
  if (total.subscribed !== null) stages.push({ name: '认购', value: total.subscribed })
  return funnelChart(stages, COLORS)
}

/** Referrals, valid referrals and attributions per bucket. */
export function trendOption(trend: Performance['trend']): EChartsCoreOption {
  const series = (name: string, pick: (s: Stages) => number) => ({
    name,
    type: 'line',
    // Straight segments: a smoothed curve of counts dips below zero between points.
    smooth: false,
    showSymbol: trend.length <= 31,
    data: trend.map(pick),
  })
  return {
    color: COLORS,
    tooltip: { trigger: 'axis' },
    legend: { data: ['报备', '有效报备', '判客有效'], top: 0, right: 0 },
    grid: { left: 36, right: 12, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: trend.map((p) => p.bucket), axisTick: { show: false } },
    yAxis: countAxis,
    series: [
      series('报备', (s) => s.referrals),
      series('有效报备', (s) => s.valid),
      series('判客有效', (s) => s.attributed),
    ],
  }
}

/** Horizontal bars of a ranking, the first at the top. */
export function rankingOption(ranking: Ranking, by: RankBy, title: string): EChartsCoreOption {
  const rows = [...ranking.items].reverse()
  const rate = by === 'conversion_rate'
  return {
    color: COLORS.slice(0, 1),
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: rate ? 0 : 1, max: rate ? 1 : undefined, show: false },
    yAxis: { type: 'category', data: rows.map((r) => `${r.rank}. ${r.label}`), axisTick: { show: false } },
    series: [
      {
        name: title,
        type: 'bar',
        barMaxWidth: 18,
        data: rows.map((r) => (rate ? r.conversion_rate ?? 0 : r[by])),
        label: {
          show: true,
          position: 'right',
          formatter: rate ? (p: { value: number }) => `${(p.value * 100).toFixed(1)}%` : '{c}',
        },
        itemStyle: { borderRadius: [0, 4, 4, 0] },
      },
    ],
  }
}
