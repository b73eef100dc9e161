import { describe, expect, it, vi } from 'vitest'

import type { JsConfig } from '../api/types'
import { setWeChatShare, urlToSign, type ShareEnv, type WxSdk } from '../wechatShare'

const ANDROID_WECHAT = 'Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50.2701 NetType/WIFI'
const IOS_WECHAT = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50'
const CHROME = 'Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36'

const CONFIG: JsConfig = {
  app_id: 'wx-web', timestamp: 1414587457, nonce_str: 'Wm3WZYTPz0wzccnW',
  signature: '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
  js_api_list: ['updateAppMessageShareData', 'updateTimelineShareData'],
}
const DATA = { title: '某楼盘', desc: '张三为您推荐', link: 'https://h5.example.cn/h5/s/t1', imgUrl: 'https://h5.example.cn/card.png' }

function fakeWx(outcome: 'ready' | 'error'): WxSdk {
  return {
    config: vi.fn(),
    ready: (callback) => { if (outcome === 'ready') callback() },
    error: (callback) => { if (outcome === 'error') callback({ errMsg: 'config:invalid signature' }) },
    updateAppMessageShareData: vi.fn(),
    updateTimelineShareData: vi.fn(),
  }
}

function env(userAgent: string, wx: WxSdk, jsConfig = vi.fn(async () => CONFIG)): ShareEnv {
  return {
    userAgent,
    href: 'https://h5.example.cn/h5/projects?d=1#top',
    entryUrl: 'https://h5.example.cn/h5/login',
    loadSdk: vi.fn(async () => wx),
    jsConfig,
  }
}

describe('setWeChatShare', () => {
  it('outside WeChat changes nothing and asks nobody', async () => {
    const wx = fakeWx('ready')
    const outside = env(CHROME, wx)
    expect(await setWeChatShare(DATA, outside)).toBe(false)
    expect(outside.loadSdk).not.toHaveBeenCalled()
    expect(outside.jsConfig).not.toHaveBeenCalled()
  })

  it('inside WeChat configures the SDK with the signed page and sets both shares', async () => {
    const wx = fakeWx('ready')
    const inside = env(ANDROID_WECHAT, wx)
    expect(await setWeChatShare(DATA, inside)).toBe(true)
    expect(inside.jsConfig).toHaveBeenCalledWith('https://h5.example.cn/h5/projects?d=1')
    expect(wx.config).toHaveBeenCalledWith({
      debug: false, appId: 'wx-web', timestamp: 1414587457, nonceStr: 'Wm3WZYTPz0wzccnW',
      signature: '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
      jsApiList: ['updateAppMessageShareData', 'updateTimelineShareData'],
    })
    expect(wx.updateAppMessageShareData).toHaveBeenCalledWith(DATA)
    expect(wx.updateTimelineShareData).toHaveBeenCalledWith(
      { title: DATA.title, link: DATA.link, imgUrl: DATA.imgUrl })
  })

  it('a refused signature or an unconfigured 公众号 leaves WeChat\'s default share', async () => {
    const refused = fakeWx('error')
    expect(await setWeChatShare(DATA, env(ANDROID_WECHAT, refused))).toBe(false)
    expect(refused.updateAppMessageShareData).not.toHaveBeenCalled()
    const wx = fakeWx('ready')
    const down = env(ANDROID_WECHAT, wx, vi.fn(async () => { throw new Error('503') }))
    expect(await setWeChatShare(DATA, down)).toBe(false)
    expect(wx.config).not.toHaveBeenCalled()
  })
})

describe('urlToSign', () => {
  it('is the current page on Android and the entry page on iOS, without the fragment', () => {
    const where = { href: 'https://h5.example.cn/h5/invite#x', entryUrl: 'https://h5.example.cn/h5/?a=1#y' }
    expect(urlToSign({ ...where, userAgent: ANDROID_WECHAT })).toBe('https://h5.example.cn/h5/invite')
    expect(urlToSign({ ...where, userAgent: IOS_WECHAT })).toBe('https://h5.example.cn/h5/?a=1')
  })
})
