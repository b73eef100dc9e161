import { describe, expect, it } from 'vitest'

import { faceChoiceText } from '../faceConsent'

describe('faceChoiceText', () => {
  it('says that declining changes nothing about the registration', () => {
    expect(faceChoiceText('declined')).toContain('凭手机号登记')
    expect(faceChoiceText('declined')).toContain('不受任何影响')
  })

  it('tells a consenting visitor how to withdraw, and to face the camera when needed', () => {
    expect(faceChoiceText('linked')).toContain('撤回')
    expect(faceChoiceText('waiting')).toContain('摄像头')
    expect(faceChoiceText('pending')).toBe('')
  })
})
