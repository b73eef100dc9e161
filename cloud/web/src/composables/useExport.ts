import { ref } from 'vue'

import { type Download, isApiError } from '@/api/http'
import { saveBlob } from '@/utils/download'

/**
 * An export button: `exporting` while the file is made, then the browser saves it and the
 * user is told whether the row cap cut it (X-Export-Truncated). The server audits it.
 */
export function useExport(download: () => Promise<Download>) {
  const exporting = ref(false)

  async function run(): Promise<void> {
    exporting.value = true
    try {
      const file = await download()
      saveBlob(file.blob, file.filename)
      if (file.headers.get('X-Export-Truncated') === 'true') {
        ElMessage.warning('记录过多，仅导出了最新的 50,000 条；请缩小时间范围后分批导出')
      } else {
        ElMessage.success('已导出，本次导出已记入审计日志')
      }
    } catch (error) {
      if (!isApiError(error)) throw error
    } finally {
      exporting.value = false
    }
  }

  return { exporting, run }
}
