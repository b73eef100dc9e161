import { onBeforeUnmount, onMounted, ref } from 'vue'

/** navigator.onLine as a ref (false = no network at all; LAN-only loss shows as a retry). */
export function useOnline() {
  const online = ref(navigator.onLine)
  const update = () => (online.value = navigator.onLine)
  onMounted(() => {
    window.addEventListener('online', update)
    window.addEventListener('offline', update)
  })
  onBeforeUnmount(() => {
    window.removeEventListener('online', update)
    window.removeEventListener('offline', update)
  })
  return online
}
