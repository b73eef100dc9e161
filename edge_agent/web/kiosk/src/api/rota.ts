// The reception rota (轮岗): board, check-in (上岗), check-out (下岗), away (离开) and
// back (回岗), today's changes.
import { request } from './http'
import type { AwayReason, DutyChangeOut, RotaBoardOut, RotaEventOut } from './types'

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
  away: (consultantId: number, reason: AwayReason, note = '') =>
    request<DutyChangeOut>('POST', '/kiosk/rota/away', {
      body: { consultant_id: consultantId, reason, note },
    }),
  back: (consultantId: number) =>
    request<DutyChangeOut>('POST', '/kiosk/rota/back', {
      body: { consultant_id: consultantId },
    }),
  events: () => request<RotaEventOut[]>('GET', '/kiosk/rota/events'),
}
