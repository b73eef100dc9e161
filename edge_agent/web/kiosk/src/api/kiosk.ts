// Kiosk endpoints of the edge agent: visits, customer look-up, roster, projects, status.
import { request } from './http'
import type {
  ConsultantOut,
  CustomerLookupOut,
  GuideCandidateOut,
  KioskStatusOut,
  ProjectOut,
  QrCodeOut,
  RegistrationOut,
  VisitIn,
  VisitOut,
} from './types'

export const kioskApi = {
  /** 201 created, 200 replay / same-day visit; the key makes a retry safe. */
  registerVisit: (body: VisitIn, idempotencyKey: string) =>
    request<RegistrationOut>('POST', '/kiosk/visits', {
      body,
      headers: { 'Idempotency-Key': idempotencyKey },
    }),
  todaysVisits: (projectId?: number) =>
    request<VisitOut[]>('GET', '/kiosk/visits', { query: { project_id: projectId } }),
  lookupCustomer: (phone: string, projectId: number | undefined, signal?: AbortSignal) =>
    request<CustomerLookupOut>('GET', '/kiosk/customers/lookup', {
      query: { phone, project_id: projectId },
      signal,
    }),
  /** Checks a 扫码带看 code (422 with a qr_* code when refused; the edge records it). */
  verifyQr: (code: string, projectId: number | undefined) =>
    request<QrCodeOut>('POST', '/kiosk/qr/verify', { body: { code, project_id: projectId } }),
  /** 无码带看: brokers with a live referral of this number here (works offline). */
  guideCandidates: (phone: string, projectId: number | undefined) =>
    request<GuideCandidateOut[]>('GET', '/kiosk/guides', { query: { phone, project_id: projectId } }),
  consultants: () => request<ConsultantOut[]>('GET', '/kiosk/consultants'),
  projects: () => request<ProjectOut[]>('GET', '/kiosk/projects'),
  status: (token?: string) => request<KioskStatusOut>('GET', '/kiosk/status', { token }),
}
