// 案场位置 in the console: the form's checks and body, kept free of Vue so they are tested
// alone. The cloud checks them again (cloud/catalog/position.py).
import type { Datum, SitePositionBody } from '@/api/catalog'

/** The rectangle the cloud accepts (cloud/catalog/geo.py CHINA_LAT / CHINA_LNG). */
const CHINA_LAT: [number, number] = [3.8, 53.6]
const CHINA_LNG: [number, number] = [73.5, 135.1]

export const DATUMS: { value: Datum; label: string }[] = [
  { value: 'gcj02', label: 'GCJ-02（高德 / 腾讯地图拾取）' },
  { value: 'bd09', label: 'BD-09（百度地图拾取）' },
  { value: 'wgs84', label: 'WGS-84（GPS 设备）' },
]

export interface PositionForm {
  lat: string
  lng: string
  datum: Datum
  address: string
}

/** "121.473701,31.230416" as the 高德 coordinate picker copies it (经度在前) → the form's
 * two fields, or null when the text is not two numbers. */
export function pastedLngLat(text: string): { lat: string; lng: string } | null {
  const m = /^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$/.exec(text)
  return m ? { lng: m[1]!, lat: m[2]! } : null
}

/** The request body, or the Chinese reason it cannot be sent. */
export function positionBody(form: PositionForm): SitePositionBody | string {
  const lat = Number(form.lat.trim())
  const lng = Number(form.lng.trim())
  if (!form.lat.trim() || !form.lng.trim() || !Number.isFinite(lat) || !Number.isFinite(lng)) {
    return '请填写纬度和经度（数字，度）'
  }
  if (lat < CHINA_LAT[0] || lat > CHINA_LAT[1] || lng < CHINA_LNG[0] || lng > CHINA_LNG[1]) {
    const swapped = lng >= CHINA_LAT[0] && lng <= CHINA_LAT[1] && lat >= CHINA_LNG[0] && lat <= CHINA_LNG[1]
    return swapped ? '纬度和经度似乎填反了：纬度约 4–54，经度约 73–135' : '位置不在中国境内，请检查经纬度'
  }
  return { lat, lng, datum: form.datum, address: form.address.trim() }
}
