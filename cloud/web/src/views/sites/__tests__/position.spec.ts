import { describe, expect, it } from 'vitest'

import { DATUMS, pastedLngLat, positionBody } from '../position'

const form = { lat: '31.230416', lng: '121.473701', datum: 'gcj02' as const, address: ' 黄浦区人民大道 1 号 ' }

describe('site position form', () => {
  it('sends the typed degrees with their datum and the trimmed address', () => {
    expect(positionBody(form)).toEqual({ lat: 31.230416, lng: 121.473701, datum: 'gcj02', address: '黄浦区人民大道 1 号' })
  })

  it('offers 百度地图’s BD-09 beside GCJ-02 and WGS-84, and sends it as chosen', () => {
    expect(DATUMS.map((d) => d.value)).toEqual(['gcj02', 'bd09', 'wgs84'])
    expect(positionBody({ ...form, datum: 'bd09' })).toMatchObject({ datum: 'bd09' })
  })

  it('refuses what is missing, not a number, outside China or swapped', () => {
    expect(positionBody({ ...form, lat: '' })).toBe('请填写纬度和经度（数字，度）')
    expect(positionBody({ ...form, lng: '121.4x' })).toBe('请填写纬度和经度（数字，度）')
    expect(positionBody({ ...form, lat: '48.8566', lng: '2.3522' })).toBe('位置不在中国境内，请检查经纬度')
    expect(positionBody({ ...form, lat: '121.473701', lng: '31.230416' })).toBe(
      '纬度和经度似乎填反了：纬度约 4–54，经度约 73–135')
  })

  it('reads the 高德 picker\'s "经度,纬度"', () => {
    expect(pastedLngLat('121.473701,31.230416')).toEqual({ lng: '121.473701', lat: '31.230416' })
    expect(pastedLngLat(' 121.47 ，31.23 ')).toEqual({ lng: '121.47', lat: '31.23' })
    expect(pastedLngLat('人民广场')).toBeNull()
  })
})
