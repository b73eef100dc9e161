import { http } from './client'
import type { IsoDateTime } from './types'

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

export const BRAND_NAMES: Record<string, string> = {
  hikvision: '海康威视',
  dahua: '大华',
  uniview: '宇视',
  axis: '安讯士 Axis',
  generic: '通用 ONVIF',
}
