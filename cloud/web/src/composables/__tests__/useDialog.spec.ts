import { describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'

import { ApiError } from '@/api/http'

import { useDialogVisible, useSubmit } from '../useDialog'

describe('useDialogVisible', () => {
  it('is open while there is a subject and asks the parent to close', () => {
    const subject = ref<{ id: number } | null>(null)
    const close = vi.fn(() => {
      subject.value = null
    })
    const visible = useDialogVisible(() => subject.value, close)
    expect(visible.value).toBe(false)

    subject.value = { id: 1 }
    expect(visible.value).toBe(true)

    visible.value = true // opening is the parent's business
    expect(close).not.toHaveBeenCalled()

    visible.value = false
    expect(close).toHaveBeenCalledTimes(1)
    expect(visible.value).toBe(false)
  })
})

describe('useSubmit', () => {
  it('shows saving while the task runs', async () => {
    const { saving, run } = useSubmit()
    let finish = (): void => undefined
    const done = run(() => new Promise<void>((resolve) => (finish = resolve)))
    expect(saving.value).toBe(true)
    finish()
    await done
    expect(saving.value).toBe(false)
  })

  it('swallows an API error (the user has been told) and ends saving', async () => {
    const { saving, run } = useSubmit()
    const after = vi.fn()
    await expect(run(async () => {
      throw new ApiError({ status: 409, code: 'conflict', detail: '冲突' })
    }).then(after)).resolves.toBeUndefined()
    expect(after).toHaveBeenCalled()
    expect(saving.value).toBe(false)
  })

  it('throws anything else on', async () => {
    const { saving, run } = useSubmit()
    await expect(run(async () => {
      throw new TypeError('bug')
    })).rejects.toThrow('bug')
    expect(saving.value).toBe(false)
  })
})
