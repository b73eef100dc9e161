// 智能拓客 as the H5 uses it: the broker's share links and leads (signed in), and the
// public share page (anonymous: whoever holds the link).
import { newIdempotencyKey, request } from './http'
import type { Lead, PublicShare, Referral, Share, ShareKind } from './types'

const CH = '/channel'

export const createShare = (kind: ShareKind, targetId: number) =>
  request<Share>('POST', `${CH}/broker/shares`, {
    body: kind === 'project' ? { kind, project_id: targetId } : { kind, campaign_id: targetId },
  })
export const myShares = () => request<Share[]>('GET', `${CH}/broker/shares`)
export const myLeads = () => request<Lead[]>('GET', `${CH}/broker/leads`)
export const convertLead = (leadId: number) =>
  request<Referral>('POST', `${CH}/broker/leads/${leadId}/referral`)

const enc = encodeURIComponent

export const publicShare = (token: string) =>
  request<PublicShare>('GET', `${CH}/public/shares/${enc(token)}`, { anonymous: true })

export interface LeadInput {
  name: string
  phone: string
  consent: boolean
  project_id?: number
}

export const leaveLead = (token: string, visitorId: string, input: LeadInput) =>
  request<{ received: boolean }>('POST', `${CH}/public/shares/${enc(token)}/leads`, {
    body: { visitor_id: visitorId, ...input }, anonymous: true,
  })

export interface ShareEvent {
  kind: 'open' | 'view'
  page: string
  seconds?: number
}

/** An open or a page view. A view is sent as the page is left, where a fetch may be cut
 * off: sendBeacon delivers it then. Counting is best effort: failures are ignored. */
export function sendShareEvent(token: string, visitorId: string, event: ShareEvent, leaving = false): void {
  const url = `/api/v1${CH}/public/shares/${enc(token)}/events`
  const body = JSON.stringify({ visitor_id: visitorId, seconds: 0, ...event })
  if (leaving && typeof navigator.sendBeacon === 'function') {
    navigator.sendBeacon(url, new Blob([body], { type: 'application/json' }))
    return
  }
  void fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, keepalive: true })
    .catch(() => undefined)
}

const VISITOR_KEY = 'anchang.h5.visitor'

/** The visitor's random id, kept in this browser only (ADR 0026). */
export function visitorId(): string {
  try {
    const known = localStorage.getItem(VISITOR_KEY)
    if (known && /^[A-Za-z0-9-]{16,64}$/.test(known)) return known
    const made = newIdempotencyKey()
    localStorage.setItem(VISITOR_KEY, made)
    return made
  } catch {
    return newIdempotencyKey() // storage refused (private mode): one id per page load
  }
}

/** The link a broker sends: the public page of the H5 on this site. */
export const shareUrl = (share: Pick<Share, 'path'>): string => `${window.location.origin}${share.path}`
