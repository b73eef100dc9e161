// Vant's function-style feedback (toast, notify, dialog) with their styles: the
// component resolver only covers components used in templates.
import { showConfirmDialog, showFailToast, showNotify, showSuccessToast, showToast } from 'vant'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import 'vant/es/toast/style'

export { showConfirmDialog, showFailToast, showNotify, showSuccessToast, showToast }
