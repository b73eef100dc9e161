import { describe, expect, it } from 'vitest'

import type { VisitConsent } from '@/api/sales'

import { consentLines, consentSummary } from '../consent'

const CONSENT: VisitConsent = {
  notice_version: '2026-11-v1',
  method: 'kiosk_screen',
  accepted_at: '2026-11-27T02:03:04Z',
  recorded_at: '2026-11-27T02:03:09Z',
  tablet: '192.168.10.21',
}

describe('consentLines', () => {
  it('shows version, method, Beijing times and the tablet', () => {
    expect(consentLines(CONSENT)).toEqual([
      { label: '同意告知书版本', value: '2026-11-v1' },
      { label: '同意方式', value: '访客在前台平板点击同意' },
      { label: '同意时间', value: '2026-11-27 10:03:04（平板时钟）' },
      { label: '设备记录时间', value: '2026-11-27 10:03:09' },
      { label: '登记平板', value: '192.168.10.21' },
    ])
  })

  it('has nothing to show for a visit without a record', () => {
    expect(consentLines(null)).toEqual([])
    expect(consentSummary(null)).toBe('未记录（设备版本较旧）')
    expect(consentSummary(CONSENT)).toBe('已同意 2026-11-v1')
  })
})
