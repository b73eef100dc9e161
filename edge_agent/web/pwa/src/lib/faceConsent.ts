// Withdrawing a visitor's face consent (ADR 0053): what each consent's state means to the
// manager, and whether anything is left to withdraw.
import type { FaceConsentEntry, FaceConsentState } from '../api/types'

export const FACE_CONSENT_LABELS: Record<FaceConsentState, string> = {
  linked: '已授权（存有人脸数据）',
  waiting: '已授权（尚未采集到人脸）',
  withdrawn: '已撤回',
}

/** Consents still in force: those a withdrawal ends. */
export function withdrawable(consents: FaceConsentEntry[]): number {
  return consents.filter((c) => c.state !== 'withdrawn').length
}

/** An 11-digit mainland mobile number, as typed with spaces or dashes. */
export function phoneOk(typed: string): boolean {
  return /^1[3-9]\d{9}$/.test(typed.replace(/[\s-]/g, ''))
}
