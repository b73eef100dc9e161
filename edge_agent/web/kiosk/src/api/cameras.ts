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

export type CaptureState = 'starting' | 'streaming' | 'reconnecting' | 'stopped'

/** How the appliance reads the camera right now (null when it is not read). */
export interface Capture {
  state: CaptureState
  fps: number
  frames: number
  last_frame_at: string | null
  errors: number
  last_error: string | null
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
  sample_fps: number
  capture_profile: string | null
  capture: Capture | null
}

export const CAPTURE_LABELS: Record<CaptureState, string> = {
  starting: '启动中',
  streaming: '取流正常',
  reconnecting: '断流重连中',
  stopped: '已停止取流',
}

/** The reader's error codes (edge_agent/cameras/capture.py), in words. */
export const CAPTURE_ERRORS: Record<string, string> = {
  open_failed: '打不开视频流（检查码流地址、端口、账号权限或摄像机的并发取流数）',
  no_frames: '视频流无画面',
  stream_ended: '视频流中断',
  decode_failed: '画面解码失败',
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
