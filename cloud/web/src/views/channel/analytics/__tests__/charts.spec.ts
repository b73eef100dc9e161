import { describe, expect, it } from 'vitest'

import type { Ranking, Stages } from '@/api/channelAnalytics'
import { percent } from '@/api/channelAnalytics'

import { funnelOption, rankingOption } from '../charts'

const total: Stages = { referrals: 8, valid: 6, visited: 3, attributed: 3, subscribed: null, conversion_rate: 0.375 }

type Series = { data: unknown[] }[]

describe('analytics charts', () => {
  it('leaves 认购 out of the funnel while deals are not recorded, instead of a zero', () => {
    const stages = (funnelOption(total).series as Series)[0]?.data
    expect(stages).toEqual([
      { name: '报备', value: 8 },
      { name: '有效报备', value: 6 },
      { name: '到访', value: 3 },
      { name: '判客有效', value: 3 },
    ])
    const withDeals = (funnelOption({ ...total, subscribed: 1 }).series as Series)[0]?.data
    expect(withDeals?.at(-1)).toEqual({ name: '认购', value: 1 })
  })

  it('draws a ranking top first with its rank, rates as fractions', () => {
    const ranking: Ranking = {
      subject: 'broker',
      by: 'conversion_rate',
      items: [
        { rank: 1, key: 3, label: '张三', referrals: 2, valid: 2, visited: 2, attributed: 2, conversion_rate: 1 },
        { rank: 2, key: 1, label: '李四', referrals: 2, valid: 1, visited: 1, attributed: 1, conversion_rate: 0.5 },
      ],
    }
    const option = rankingOption(ranking, 'conversion_rate', '转化率')
    // ECharts draws a category axis bottom-up: the first of the ranking is last.
    expect((option.yAxis as { data: string[] }).data).toEqual(['2. 李四', '1. 张三'])
    expect((option.series as Series)[0]?.data).toEqual([0.5, 1])
  })

  it('shows rates as percentages and a missing rate as a dash', () => {
    expect(percent(0.375)).toBe('37.5%')
    expect(percent(null)).toBe('—')
  })
})
