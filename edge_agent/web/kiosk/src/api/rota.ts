// The reception rota (轮岗): board, check-in (上岗), check-out (下岗), today's changes.
import { request } from './http'
import type { DutyChangeOut, RotaBoardOut, RotaEventOut } from './types'

export const rotaApi = {
  board: () => request<RotaBoardOut>('GET', '/kiosk/rota/board'),
  checkIn: (consultantId: number) =>
    request<DutyChangeOut>('POST', '/kiosk/rota/check-in', {
      body: { consultant_id: consultantId },
    }),
  checkOut: (consultantId: number) =>
    request<DutyChangeOut>('POST', '/kiosk/rota/check-out', {
      body: { consultant_id: consultantId },
    }),
  events: () => request<RotaEventOut[]>('GET', '/kiosk/rota/events'),
}
