// The reception queue (轮岗): who is on duty, in which order, and today's changes.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { rotaApi } from '../api/rota'
import type { AwayReason, RotaBoardOut, RotaConsultantOut, RotaEventOut } from '../api/types'

export const useRotaStore = defineStore('rota', () => {
  const board = ref<RotaBoardOut | null>(null)
  const events = ref<RotaEventOut[]>([])
  const pending = ref<number[]>([])

  const consultants = computed<RotaConsultantOut[]>(() => board.value?.consultants ?? [])
  const queue = computed(() => consultants.value.filter((c) => c.on_duty))
  const offDuty = computed(() => consultants.value.filter((c) => !c.on_duty))
  const next = computed<RotaConsultantOut | null>(
    () => consultants.value.find((c) => c.id === board.value?.next_consultant_id) ?? null,
  )

  async function refresh(withEvents = false): Promise<void> {
    const [current, changes] = await Promise.all([
      rotaApi.board(),
      withEvents ? rotaApi.events() : Promise.resolve(null),
    ])
    board.value = current
    if (changes !== null) events.value = changes
  }

  async function change(consultantId: number, send: () => Promise<RotaBoardOut>): Promise<void> {
    if (pending.value.includes(consultantId)) return
    pending.value = [...pending.value, consultantId]
    try {
      board.value = await send()
      events.value = await rotaApi.events()
    } finally {
      pending.value = pending.value.filter((id) => id !== consultantId)
    }
  }

  const checkIn = (id: number) => change(id, () => rotaApi.checkIn(id))
  const checkOut = (id: number) => change(id, () => rotaApi.checkOut(id))
  const away = (id: number, reason: AwayReason, note = '') =>
    change(id, () => rotaApi.away(id, reason, note))
  const back = (id: number) => change(id, () => rotaApi.back(id))
  const isPending = (consultantId: number) => pending.value.includes(consultantId)

  return {
    board, events, consultants, queue, offDuty, next, refresh, checkIn, checkOut, away, back,
    isPending,
  }
})
