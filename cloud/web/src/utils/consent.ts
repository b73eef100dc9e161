// How a visit's consent record reads in the console (visit list and customer timeline).
import type { VisitConsent } from '@/api/sales'

import { formatDateTime } from './time'

export const CONSENT_METHOD_NAMES: Record<string, string> = {
  kiosk_screen: '访客在前台平板点击同意',
  staff_confirmed: '工作人员确认访客已同意',
}

export interface ConsentLine {
  label: string
  value: string
}

/** The consent's fields as label/value lines, in Beijing time; none without a record. */
export function consentLines(consent: VisitConsent | null | undefined): ConsentLine[] {
  if (!consent) return []
  return [
    { label: '同意告知书版本', value: consent.notice_version },
    { label: '同意方式', value: CONSENT_METHOD_NAMES[consent.method] ?? consent.method },
    { label: '同意时间', value: `${formatDateTime(consent.accepted_at)}（平板时钟）` },
    { label: '设备记录时间', value: formatDateTime(consent.recorded_at) },
    { label: '登记平板', value: consent.tablet },
  ]
}

/** One line for a table cell or a timeline entry. */
export function consentSummary(consent: VisitConsent | null | undefined): string {
  if (!consent) return '未记录（设备版本较旧）'
  return `已同意 ${consent.notice_version}`
}
