// What a page shows when shared inside WeChat (分享给朋友 / 朋友圈): the JS-SDK configured
// with the cloud's signature of this page's URL, then the share data set. Outside WeChat,
// or when anything fails (no 公众号 configured, the SDK not loading), nothing changes and
// WeChat shares the link with the page title as before.
import type { JsConfig } from './api/types'

export interface ShareData {
  title: string
  desc: string
  link: string
  imgUrl: string
}

/** The part of WeChat's `wx` object the share uses. */
export interface WxSdk {
  config(options: Record<string, unknown>): void
  ready(callback: () => void): void
  error(callback: (reason: unknown) => void): void
  updateAppMessageShareData(data: ShareData): void
  updateTimelineShareData(data: Omit<ShareData, 'desc'>): void
}

export interface ShareEnv {
  userAgent: string
  href: string
  /** The URL the app was entered at: what iOS WeChat checks the signature against. */
  entryUrl: string
  loadSdk(): Promise<WxSdk>
  jsConfig(url: string): Promise<JsConfig>
}

const SDK_URL = 'https://res.wx.qq.com/open/js/jweixin-1.6.0.js'
const READY_MS = 8000

export const inWeChat = (userAgent: string): boolean => /MicroMessenger/i.test(userAgent)

/** The URL to sign, without its fragment. iOS WeChat keeps the URL a single-page app was
 * entered at whatever the history API did since; Android uses the current one. */
export function urlToSign(env: Pick<ShareEnv, 'userAgent' | 'href' | 'entryUrl'>): string {
  const url = /iPhone|iPad|iPod/i.test(env.userAgent) ? env.entryUrl : env.href
  return url.split('#', 1)[0] ?? url
}

/** Set the share data inside WeChat; true when WeChat accepted it. */
export async function setWeChatShare(data: ShareData, env: ShareEnv = browserEnv()): Promise<boolean> {
  if (!inWeChat(env.userAgent)) return false
  try {
    const [wx, config] = await Promise.all([env.loadSdk(), env.jsConfig(urlToSign(env))])
    wx.config({
      debug: false, appId: config.app_id, timestamp: config.timestamp,
      nonceStr: config.nonce_str, signature: config.signature, jsApiList: config.js_api_list,
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve, reject) => {
      wx.ready(resolve)
      wx.error(reject)
      timer = setTimeout(() => reject(new Error('wx.config timed out')), READY_MS)
    }).finally(() => clearTimeout(timer))
    wx.updateAppMessageShareData(data)
    wx.updateTimelineShareData({ title: data.title, link: data.link, imgUrl: data.imgUrl })
    return true
  } catch {
    return false
  }
}

const entry = typeof window === 'undefined' ? '' : window.location.href
let sdk: Promise<WxSdk> | null = null

function loadSdk(): Promise<WxSdk> {
  sdk ??= new Promise<WxSdk>((resolve, reject) => {
    const script = document.createElement('script')
    script.src = SDK_URL
    script.onload = () => {
      const wx = (window as unknown as { wx?: WxSdk }).wx
      if (wx) resolve(wx)
      else reject(new Error('no wx'))
    }
    script.onerror = () => {
      sdk = null
      reject(new Error('the JS-SDK did not load'))
    }
    document.head.appendChild(script)
  })
  return sdk
}

function browserEnv(): ShareEnv {
  return {
    userAgent: navigator.userAgent,
    href: window.location.href,
    entryUrl: entry,
    loadSdk,
    jsConfig: async (url) => (await import('./api/channel')).wechatJsConfig(url),
  }
}
