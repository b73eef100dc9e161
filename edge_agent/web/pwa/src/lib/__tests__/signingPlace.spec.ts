import { describe, expect, it } from 'vitest'

import {
  canLocate,
  LOCATE_TIMEOUT_MS,
  locate,
  MAX_ACCURACY_M,
  signingPlaceBody,
  signingPlaceText,
} from '../signingPlace'

/** A Geolocation that answers as a phone's browser would: a fix, or an error code. */
function phone(answer: { lat: number; lng: number; accuracy: number } | { code: number }) {
  const asked: PositionOptions[] = []
  const geo = {
    getCurrentPosition(ok: PositionCallback, fail?: PositionErrorCallback | null, options?: PositionOptions) {
      asked.push(options ?? {})
      if ('code' in answer) {
        fail?.({ code: answer.code, message: '', PERMISSION_DENIED: 1, POSITION_UNAVAILABLE: 2, TIMEOUT: 3 })
        return
      }
      ok({
        coords: { latitude: answer.lat, longitude: answer.lng, accuracy: answer.accuracy } as GeolocationCoordinates,
        timestamp: Date.now(),
      } as GeolocationPosition)
    },
  }
  return { geo, asked }
}

describe('whether the phone may be asked for its position', () => {
  it('needs a secure context and the Geolocation API', () => {
    const geolocation = {}
    expect(canLocate({ isSecureContext: true, navigator: { geolocation } })).toBe(true)
    // The appliance over the office LAN: plain HTTP.
    expect(canLocate({ isSecureContext: false, navigator: { geolocation } })).toBe(false)
    expect(canLocate({ isSecureContext: true, navigator: {} })).toBe(false)
  })
})

describe('reading the position', () => {
  it('answers WGS-84 degrees with the accuracy, asking for a precise, recent fix', async () => {
    const { geo, asked } = phone({ lat: 31.2304, lng: 121.4737, accuracy: 35 })
    await expect(locate(geo)).resolves.toEqual({ lat: 31.2304, lng: 121.4737, accuracy: 35 })
    expect(asked).toEqual([{ enableHighAccuracy: true, timeout: LOCATE_TIMEOUT_MS, maximumAge: 60_000 }])
  })

  it('refuses a fix too vague to tell the office from 500 m away', async () => {
    const { geo } = phone({ lat: 31.2304, lng: 121.4737, accuracy: MAX_ACCURACY_M + 1 })
    await expect(locate(geo)).rejects.toThrow('定位精度不足（约 301 米）')
  })

  it('says in Chinese why there is no position', async () => {
    await expect(locate(phone({ code: 1 }).geo)).rejects.toThrow('未获得定位权限')
    await expect(locate(phone({ code: 3 }).geo)).rejects.toThrow('定位超时')
    await expect(locate(phone({ code: 2 }).geo)).rejects.toThrow('暂时无法定位')
  })
})

describe('the signing place sent with 认购 → 签约', () => {
  it('sends the office without coordinates, the phone with them, or nothing', () => {
    expect(signingPlaceBody('site', null)).toEqual({ signing_place_source: 'site' })
    expect(signingPlaceBody('device', { lat: 31.2404, lng: 121.4737 })).toEqual({
      signing_place_source: 'device', signing_location: { lat: 31.2404, lng: 121.4737 },
    })
    expect(signingPlaceBody('none', { lat: 31.2404, lng: 121.4737 })).toEqual({})
  })

  it('will not send the phone\'s place before it was read', () => {
    expect(signingPlaceBody('device', null)).toBe('尚未取得手机定位，请点「获取定位」，或选择「在案场」')
  })

  it('names a recorded place and its source', () => {
    expect(signingPlaceText({ signing_place_source: null, signing_location: null })).toBeNull()
    expect(signingPlaceText({ signing_place_source: 'site', signing_location: null })).toBe('在案场')
    expect(signingPlaceText({ signing_place_source: 'device', signing_location: { lat: 31.24041, lng: 121.47372 } }))
      .toBe('手机定位（31.24041, 121.47372）')
  })
})
