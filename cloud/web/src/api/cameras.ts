import { http } from './client'
import type { IsoDateTime } from './types'

export type CameraStatus = 'discovered' | 'confirmed' | 'ignored'
export type OnvifState = 'ok' | 'no_credentials' | 'auth_failed' | 'unreachable' | 'onvif_error'
export type CaptureState = 'starting' | 'streaming' | 'reconnecting' | 'stopped'

export interface CameraProfile {
  token: string
  name: string
  encoding: string | null
  width: number | null
  height: number | null
  fps: number | null
  stream_uri: string | null
}

/** A site's camera as its appliance last reported it (never credentials). */
export interface SiteCamera {
  camera_id: string
  identity: string
  mac: string | null
  serial: string | null
  brand: string
  manufacturer: string | null
  model: string | null
  firmware: string | null
  host: string
  onvif_port: number
  name: string | null
  status: CameraStatus
  onvif_state: OnvifState
  last_error: string | null
  has_credentials: boolean
  profiles: CameraProfile[]
  discovered_at: IsoDateTime
  confirmed_at: IsoDateTime | null
  reported_at: IsoDateTime
  /** Capture health (`camera.health`); null until the appliance's reader reports. */
  capture_state: CaptureState | null
  sample_fps: number | null
  capture_fps: number | null
  captured_frames: number | null
  last_frame_at: IsoDateTime | null
  capture_errors: number | null
  capture_error: string | null
  capture_error_at: IsoDateTime | null
  health_reported_at: IsoDateTime | null
}

export const camerasApi = {
  ofSite: (siteId: string) => http.get<SiteCamera[]>('/cameras', { site_id: siteId }),
}

export const CAMERA_STATUS_NAMES: Record<CameraStatus, string> = {
  discovered: '待现场确认',
  confirmed: '已启用',
  ignored: '已忽略',
}

export const ONVIF_STATE_NAMES: Record<OnvifState, string> = {
  ok: '连接正常',
  no_credentials: '未填写账号密码',
  auth_failed: '账号密码错误',
  unreachable: '连接不上',
  onvif_error: 'ONVIF 应答异常',
}

export const CAPTURE_STATE_NAMES: Record<CaptureState, string> = {
  starting: '启动中',
  streaming: '取流正常',
  reconnecting: '断流重连中',
  stopped: '已停止取流',
}

/** The reader's last error codes (edge_agent/cameras/capture.py), in words. */
export const CAPTURE_ERROR_NAMES: Record<string, string> = {
  open_failed: '打不开视频流',
  no_frames: '视频流无画面',
  stream_ended: '视频流中断',
  decode_failed: '画面解码失败',
}

export const BRAND_NAMES: Record<string, string> = {
  hikvision: '海康威视',
  dahua: '大华',
  uniview: '宇视',
  axis: '安讯士 Axis',
  generic: '通用 ONVIF',
}
