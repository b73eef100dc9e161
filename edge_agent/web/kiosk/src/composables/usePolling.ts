import { onBeforeUnmount, onMounted } from 'vue'

/** Run `task` now and every `intervalMs` while the component is mounted; never overlapping. */
export function usePolling(task: () => Promise<unknown>, intervalMs: number): { runNow: () => Promise<void> } {
  let timer: number | undefined
  let running = false
  let stopped = false

  async function tick(): Promise<void> {
    if (running) return
    running = true
    try {
      await task()
    } catch {
      // the stores keep their last good data; the status bar tells what is wrong
    } finally {
      running = false
    }
  }

  function schedule(): void {
    if (stopped) return
    timer = window.setTimeout(async () => {
      await tick()
      schedule()
    }, intervalMs)
  }

  onMounted(() => {
    void tick()
    schedule()
  })
  onBeforeUnmount(() => {
    stopped = true
    window.clearTimeout(timer)
  })
  return { runNow: tick }
}
