// The sales office's edge agent: same origin as this app (it serves /pwa/).
import { ApiError, BACKGROUND_HEADER, NetworkError, request, type RequestOptions } from './http'
import type {
  CallBody,
  ClaimableVisit,
  FaceConsents,
  FaceConsentWithdrawn,
  CustomerHistory,
  FollowUpBody,
  HqChange,
  IncomingCall,
  MyCustomer,
  PenaltyKind,
  PenaltyOut,
  Revealed,
  RotaBoard,
  StaffSession,
  Visit,
} from './types'

const API = '/api/v1/staff'
const RECEPTION = `${API}/reception`
const FACES = `${API}/faces`

/** Told of every answer (or silence) from the appliance: the reach store listens. */
export const edgeEvents = { reached: (_up: boolean): void => undefined }

async function call<T>(url: string, options: RequestOptions = {}): Promise<T> {
  try {
    const answer = await request<T>(url, options)
    edgeEvents.reached(true)
    return answer
  } catch (error) {
    // A 5xx from a proxy in front of a stopped agent is as good as no answer.
    edgeEvents.reached(!(error instanceof NetworkError || (error instanceof ApiError && error.status >= 502)))
    throw error
  }
}

export const edgeApi = {
  /** The appliance's liveness, nothing more (no token): a cheap reachability probe. */
  alive: (timeoutMs: number) => call<{ status: string }>('/healthz', { timeoutMs }),
  login: (username: string, password: string) =>
    call<StaffSession>(`${API}/login`, {
      method: 'POST',
      body: { username, password },
      timeoutMs: 15000,
    }),
  visitsToday: (token: string) => call<Visit[]>(`${API}/visits/today`, { token }),
  /** `background`: the list's own refresh timer, which must not keep an idle session alive. */
  customers: (token: string, background = false) =>
    call<MyCustomer[]>(`${API}/customers`, {
      token,
      headers: background ? { [BACKGROUND_HEADER]: '1' } : undefined,
    }),
  /** A search by number, last four digits or name (audited on the appliance), filtered. */
  searchCustomers: (token: string, params: URLSearchParams) =>
    call<MyCustomer[]>(`${API}/customers?${params.toString()}`, { token }),
  customer: (token: string, key: string) =>
    call<CustomerHistory>(`${API}/customers/${encodeURIComponent(key)}`, { token }),
  reveal: (token: string, key: string, reason: string) =>
    call<Revealed>(`${API}/customers/${encodeURIComponent(key)}/reveal`, {
      method: 'POST',
      token,
      body: { reason },
    }),
  /** A sales manager's: today's queue, penalties, forgotten-name claims. */
  board: (token: string) => call<RotaBoard>(`${RECEPTION}/board`, { token }),
  penalise: (token: string, consultantId: number, kind: PenaltyKind, note: string) =>
    call<PenaltyOut>(`${RECEPTION}/penalties`, {
      method: 'POST',
      token,
      body: { consultant_id: consultantId, kind, note },
    }),
  claimable: (token: string) => call<ClaimableVisit[]>(`${RECEPTION}/claimable`, { token }),
  /** What HQ last changed in the reception settings here; null once changed here since. */
  hqChange: (token: string) => call<HqChange | null>(`${RECEPTION}/settings/hq-change`, { token }),
  claim: (token: string, visitId: string, consultantId: number) =>
    call<Visit>(`${RECEPTION}/visits/${encodeURIComponent(visitId)}/claim`, {
      method: 'POST',
      token,
      body: { consultant_id: consultantId },
    }),
  /** A visitor's face consents by phone (a manager's look-up, audited on the appliance). */
  faceConsents: (token: string, phone: string) =>
    call<FaceConsents>(`${FACES}/consents?${new URLSearchParams({ phone }).toString()}`, { token }),
  /** Withdraw every face consent of that number: the appliance deletes the face data. */
  withdrawFaceConsent: (token: string, phone: string) =>
    call<FaceConsentWithdrawn>(`${FACES}/consents/withdraw`, { method: 'POST', token, body: { phone } }),
  followUp: (token: string, body: FollowUpBody) =>
    call<unknown>(`${API}/follow-ups`, {
      method: 'POST',
      token,
      body,
      headers: { 'Idempotency-Key': body.id },
      timeoutMs: 6000,
    }),
  /** 来电登记 (ADR 0056): only the appliance registers calls; the phone queues them. */
  recordCall: (token: string, body: CallBody) =>
    call<IncomingCall>(`${API}/calls`, {
      method: 'POST',
      token,
      body,
      headers: { 'Idempotency-Key': body.id },
      timeoutMs: 6000,
    }),
  callsToday: (token: string) => call<IncomingCall[]>(`${API}/calls/today`, { token }),
}
