// The channel API as the H5 uses it. Routes of other parts of issue #21 (SMS and WeChat
// sign-in, invites, QR codes, appeals) may not be deployed yet: callers treat a plain 404
// as "功能即将开放" (http.notYetOpen).
import { newIdempotencyKey, request, requestObjectUrl } from './http'
import type {
  Appeal,
  BrokerCustomer,
  BrokerMe,
  BrokerProject,
  BrokerTask,
  BrokerTaskDetail,
  Invites,
  JsConfig,
  Notification,
  ProjectFilter,
  Referral,
  ReferralQr,
  ReferralState,
  TokenOut,
  Unread,
} from './types'

const CH = '/channel'

export const passwordLogin = (username: string, password: string) =>
  request<TokenOut>('POST', '/auth/login', { body: { username, password }, anonymous: true })
export const sendSmsCode = (phone: string) =>
  request<{ cooldown_seconds: number }>('POST', `${CH}/auth/sms/send`, { body: { phone }, anonymous: true })
export const smsLogin = (phone: string, code: string, inviteCode?: string) =>
  request<TokenOut>('POST', `${CH}/auth/sms/login`, {
    body: { phone, code, ...(inviteCode ? { invite_code: inviteCode } : {}) },
    anonymous: true,
  })
export const wechatAuthorizeUrl = (inviteCode?: string) => {
  const params = new URLSearchParams({ next: '/h5/' })
  if (inviteCode) params.set('invite_code', inviteCode)
  return `/api/v1${CH}/auth/wechat/authorize?${params.toString()}`
}
export const logout = () => request<void>('POST', '/auth/logout')

export const brokerMe = () => request<BrokerMe>('GET', `${CH}/broker/me`)
export const brokerProjects = (filter: ProjectFilter = {}) =>
  request<BrokerProject[]>('GET', `${CH}/broker/projects`, { query: { ...filter } })
export const brokerCustomers = (state?: ReferralState) =>
  request<BrokerCustomer[]>('GET', `${CH}/broker/customers`, { query: { state } })

export interface ReferralInput {
  project_id: number
  phone: string
  name: string
  customer_group: 'individual' | 'corporate'
}

/** One submission, one key: a retry after a lost answer returns the first decision. */
export const submitReferral = (input: ReferralInput, key: string = newIdempotencyKey()) =>
  request<Referral>('POST', `${CH}/referrals`, { body: input, headers: { 'Idempotency-Key': key } })
export const referralQr = (referralId: number) =>
  request<ReferralQr>('POST', `${CH}/referrals/${referralId}/qr`)

export const myInvites = () => request<Invites>('GET', `${CH}/invites/mine`)
export const invitePoster = () => requestObjectUrl(`${CH}/invites/mine/poster.png`)
export const wechatJsConfig = (url: string) =>
  request<JsConfig>('POST', `${CH}/wechat/js-config`, { body: { url } })

export const listAppeals = () => request<Appeal[]>('GET', `${CH}/appeals`)
export const createAppeal = (referralId: number, reason: string) =>
  request<Appeal>('POST', `${CH}/appeals`, { body: { referral_id: referralId, reason } })
export const uploadEvidence = (appealId: number, file: File) => {
  const form = new FormData()
  form.append('file', file)
  return request<{ id: number; filename: string; size: number }>(
    'POST', `${CH}/appeals/${appealId}/evidence`, { form })
}

export const myNotifications = () => request<Notification[]>('GET', `${CH}/notifications/mine`)
export const unreadCount = () => request<Unread>('GET', `${CH}/notifications/mine/unread`)
/** Some of my messages read (their ids), or all of them: answers the unread count left. */
export const markRead = (ids: number[] | 'all') =>
  request<Unread>('POST', `${CH}/notifications/mine/read`, {
    body: ids === 'all' ? { all: true } : { ids },
  })

export const wechatLogin = (code: string, state: string) =>
  request<TokenOut>('POST', `${CH}/auth/wechat/login`, { body: { code, state }, anonymous: true })
export const wechatBind = (ticket: string, phone: string, smsCode: string) =>
  request<TokenOut>('POST', `${CH}/auth/wechat/bind`, {
    body: { ticket, phone, sms_code: smsCode }, anonymous: true,
  })

/** Whether the WeChat sign-in is deployed: its authorize route redirects (302). */
export async function wechatAvailable(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { redirect: 'manual', cache: 'no-store' })
    return response.type === 'opaqueredirect' || response.ok
  } catch {
    return false
  }
}

export const myTasks = () => request<BrokerTask[]>('GET', `${CH}/broker/tasks`)
export const myTask = (id: number) => request<BrokerTaskDetail>('GET', `${CH}/broker/tasks/${id}`)
