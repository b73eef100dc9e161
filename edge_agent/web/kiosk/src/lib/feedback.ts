// Toasts and confirmations. Vant's function APIs are not components, so their styles are
// imported here by hand (the resolver handles components).
import 'vant/es/toast/style/index'
import 'vant/es/dialog/style/index'

import { showConfirmDialog, showFailToast } from 'vant/es'

export function toastError(message: string): void {
  showFailToast({ message, duration: 3500, wordBreak: 'break-word' })
}

export async function confirm(
  title: string,
  message: string,
  confirmText = '确定',
  cancelText = '取消',
): Promise<boolean> {
  try {
    await showConfirmDialog({ title, message, confirmButtonText: confirmText, cancelButtonText: cancelText })
    return true
  } catch {
    return false
  }
}
