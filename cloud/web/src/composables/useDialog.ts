import { type WritableComputedRef, computed, ref } from 'vue'

import { isApiError } from '@/api/http'

/**
 * The `v-model` of a dialog that is open while the parent hands it something to show
 * (`subject()` is not null); closing it asks the parent to let go, through `close`.
 */
export function useDialogVisible(subject: () => unknown, close: () => void): WritableComputedRef<boolean> {
  return computed({
    get: () => subject() !== null,
    set: (open: boolean) => {
      if (!open) close()
    },
  })
}

/**
 * A dialog's submit: `saving` while the request runs (for the button's spinner). An API
 * error has been shown to the user by the request layer and leaves the dialog open as it
 * is; anything else is a bug and is thrown on.
 */
export function useSubmit() {
  const saving = ref(false)

  async function run(task: () => Promise<void>): Promise<void> {
    saving.value = true
    try {
      await task()
    } catch (error) {
      if (!isApiError(error)) throw error
    } finally {
      saving.value = false
    }
  }

  return { saving, run }
}
