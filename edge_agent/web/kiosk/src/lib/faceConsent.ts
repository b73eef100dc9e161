// What the face step says after the visitor's choice (the 2025 face measures: separate
// consent, and a way that works without a face — registering by phone already did).
import type { FaceConsentState } from '../api/faces'

export type FaceChoice = 'pending' | 'declined' | FaceConsentState

export function faceChoiceText(choice: FaceChoice): string {
  switch (choice) {
    case 'linked':
      return '已开启刷脸识别：下次来访无需再报手机号。可随时请工作人员撤回并删除人脸数据。'
    case 'waiting':
      return '请正对前台上方的摄像头停留两三秒，完成人脸关联。可随时请工作人员撤回。'
    case 'declined':
      return '未使用人脸：本次已凭手机号登记，服务不受任何影响。'
    default:
      return ''
  }
}
