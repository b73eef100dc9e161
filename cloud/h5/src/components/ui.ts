// Vant's function-style messages need their CSS imported by hand (on-demand imports
// cover components used in templates only).
export { showDialog, showFailToast, showSuccessToast, showToast } from 'vant'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
