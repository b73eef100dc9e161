import { describe, expect, it } from 'vitest'

import type { FaceConsentEntry, FaceConsentState } from '../../api/types'
import { FACE_CONSENT_LABELS, phoneOk, withdrawable } from '../faceConsent'

function entry(state: FaceConsentState): FaceConsentEntry {
  return { visit_id: crypto.randomUUID(), project_id: 1, visit_date: '2026-11-28',
    notice_version: 'faces-2026-v1', recorded_at: '2026-11-28T02:00:00Z', state }
}

describe('withdrawing a visitor’s face consent', () => {
  it('counts the consents still in force, waiting ones too', () => {
    expect(withdrawable([entry('linked'), entry('waiting'), entry('withdrawn')])).toBe(2)
    expect(withdrawable([entry('withdrawn')])).toBe(0)
    expect(withdrawable([])).toBe(0)
  })

  it('says whether face data is kept', () => {
    expect(FACE_CONSENT_LABELS.linked).toContain('存有人脸数据')
    expect(FACE_CONSENT_LABELS.withdrawn).toBe('已撤回')
  })

  it('takes a mobile number as typed, nothing shorter', () => {
    expect(phoneOk('138 0000-5555')).toBe(true)
    expect(phoneOk('1380000555')).toBe(false)
    expect(phoneOk('23800005555')).toBe(false)
  })
})
