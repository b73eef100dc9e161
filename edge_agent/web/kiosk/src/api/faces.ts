// The separate face-consent step (issue #23): whether the site uses faces, and the
// visitor's consent for one registration. Refusing needs no call: nothing is linked.
import { request } from './http'

export interface KioskFacesOut {
  enabled: boolean
  signage_text: string | null
  notice_version: string | null
}

export type FaceConsentState = 'linked' | 'waiting'

export const facesApi = {
  status: () => request<KioskFacesOut>('GET', '/kiosk/faces'),
  /** 409 faces_off, 404 visit_not_found, 422 face_notice_mismatch. */
  consent: (visitId: string, noticeVersion: string) =>
    request<{ state: FaceConsentState }>('POST', `/kiosk/visits/${visitId}/face-consent`, {
      body: { notice_version: noticeVersion },
    }),
}
