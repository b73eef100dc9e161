// 签约地点 on the phone (ADR 0060): at 认购 → 签约 the consultant says where the contract is
// signed — 「在案场」 (the cloud takes the office's configured position), the phone's own
// position, or nothing. The far-signing risk check compares it with where the guided visit
// was confirmed. A browser gives its position only in a secure context (HTTPS, or
// localhost) and with the user's permission: the phone reaching the appliance over the
// office LAN (plain HTTP) cannot, so 「在案场」 is the default.
import type { ConvertBody, DealDetail, LatLng } from '../api/types'

export type SigningChoice = 'site' | 'device' | 'none'

// A fix vaguer than this could place a desk in the office 500 m away: not worth sending.
export const MAX_ACCURACY_M = 300
export const LOCATE_TIMEOUT_MS = 10_000

export interface Located extends LatLng {
  accuracy: number
}

/** Whether this page may ask for the phone's position at all. */
export function canLocate(env: { isSecureContext: boolean; navigator: { geolocation?: unknown } }): boolean {
  return env.isSecureContext && env.navigator.geolocation !== undefined
}

const UNAVAILABLE = '暂时无法定位，请到信号较好的地方重试，或选择「在案场」'
// GeolocationPositionError codes: PERMISSION_DENIED 1, POSITION_UNAVAILABLE 2, TIMEOUT 3.
const ERRORS: Record<number, string> = {
  1: '未获得定位权限：请在浏览器设置中允许定位，或选择「在案场」',
  2: UNAVAILABLE,
  3: '定位超时，请重试，或选择「在案场」',
}

/** The phone's current position (WGS-84, as the Geolocation API reports it), or a
 * rejection whose message is the Chinese reason. */
export function locate(geo: Pick<Geolocation, 'getCurrentPosition'>): Promise<Located> {
  return new Promise((resolve, reject) => {
    geo.getCurrentPosition(
      (p) => {
        if (p.coords.accuracy > MAX_ACCURACY_M) {
          reject(new Error(`定位精度不足（约 ${Math.round(p.coords.accuracy)} 米），请重试，或选择「在案场」`))
          return
        }
        resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: p.coords.accuracy })
      },
      (e) => reject(new Error(ERRORS[e.code] ?? UNAVAILABLE)),
      { enableHighAccuracy: true, timeout: LOCATE_TIMEOUT_MS, maximumAge: 60_000 },
    )
  })
}

type SigningFields = Pick<ConvertBody, 'signing_location' | 'signing_place_source'>

/** The convert body's signing fields for the choice, or the Chinese reason they cannot
 * be sent yet (the phone's position not read). */
export function signingPlaceBody(choice: SigningChoice, position: LatLng | null): SigningFields | string {
  if (choice === 'none') return {}
  if (choice === 'site') return { signing_place_source: 'site' }
  if (position === null) return '尚未取得手机定位，请点「获取定位」，或选择「在案场」'
  return { signing_place_source: 'device', signing_location: { lat: position.lat, lng: position.lng } }
}

/** The document's signing place in words, or null when none was recorded. */
export function signingPlaceText(deal: Pick<DealDetail, 'signing_location' | 'signing_place_source'>): string | null {
  if (deal.signing_place_source === null) return null
  const at = deal.signing_location
    ? `（${deal.signing_location.lat.toFixed(5)}, ${deal.signing_location.lng.toFixed(5)}）`
    : ''
  return deal.signing_place_source === 'site' ? `在案场${at}` : `手机定位${at}`
}
