// The field engineer's camera routes. Every call carries the engineer token given on the
// page (never the kiosk token, never stored on the tablet).
import { request } from './http'

export type CameraStatus = 'discovered' | 'confirmed' | 'ignored'
export type OnvifState = 'ok' | 'no_credentials' | 'auth_failed' | 'unreachable' | 'onvif_error'

export interface CameraProfile {
  token: string
  name: string
  encoding: string | null
  width: number | null
  height: number | null
  fps: number | null
  stream_uri: string | null
}

export interface Camera {
  id: string
  identity: string
  mac: string | null
  serial: string | null
  brand: string
  brand_name: string
  manufacturer: string | null
  model: string | null
  firmware: string | null
  host: string
  onvif_port: number
  username: string | null
  has_credentials: boolean
  name: string | null
  status: CameraStatus
  onvif_state: OnvifState
  last_error: string | null
  profiles: CameraProfile[]
  notes: string[]
  discovered_at: string
  last_seen_at: string
  confirmed_at: string | null
}

export interface ScanBody {
  multicast: boolean
  addresses: string[]
  username?: string
  password?: string
}

// A scan waits for WS-Discovery answers, then asks each camera (up to 15 s each).
const LAN_TIMEOUT_MS = 60_000

export const camerasApi = {
  list: (token: string) => request<Camera[]>('GET', '/cameras', { token }),
  scan: (token: string, body: ScanBody) =>
    request<Camera[]>('POST', '/cameras/scan', { token, body, timeoutMs: LAN_TIMEOUT_MS }),
  add: (token: string, body: { host: string; port: number; username: string; password: string }) =>
    request<Camera>('POST', '/cameras', { token, body, timeoutMs: LAN_TIMEOUT_MS }),
  credentials: (token: string, id: string, username: string, password: string) =>
    request<Camera>('PUT', `/cameras/${id}/credentials`, {
      token,
      body: { username, password },
      timeoutMs: LAN_TIMEOUT_MS,
    }),
  confirm: (token: string, id: string, name: string) =>
    request<Camera>('POST', `/cameras/${id}/confirm`, { token, body: { name } }),
  ignore: (token: string, id: string) => request<Camera>('POST', `/cameras/${id}/ignore`, { token }),
}

export const STATUS_LABELS: Record<CameraStatus, string> = {
  discovered: '待确认',
  confirmed: '已启用',
  ignored: '已忽略',
}

export const ONVIF_LABELS: Record<OnvifState, string> = {
  ok: '连接正常',
  no_credentials: '未填写账号密码',
  auth_failed: '账号密码错误',
  unreachable: '连接不上',
  onvif_error: 'ONVIF 应答异常',
}
