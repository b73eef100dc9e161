// The broker's unread message count: the badge on 我的 and on 我的消息. Refreshed when a
// tab page opens and after messages are marked read; a failure leaves the last count.
import { ref } from 'vue'

import { unreadCount } from './api/channel'

export const unread = ref(0)

export async function refreshUnread(): Promise<void> {
  try {
    unread.value = (await unreadCount()).unread
  } catch {
    // the badge is a hint: the page itself reports what failed
  }
}
