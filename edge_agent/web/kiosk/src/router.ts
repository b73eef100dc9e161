import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'

import { useConsentStore } from './stores/consent'
import { useDeviceStore } from './stores/device'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown without a configured kiosk token (device setup only). */
    public?: boolean
    /** Needs the visitor's acceptance of the notice. */
    needsConsent?: boolean
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/consent' },
  {
    path: '/setup',
    name: 'setup',
    component: () => import('./views/SetupView.vue'),
    meta: { public: true, title: '终端设置' },
  },
  {
    // The field engineer's page: its own token, not the tablet's (shown on an unset tablet).
    path: '/engineer/cameras',
    name: 'cameras',
    component: () => import('./views/CamerasView.vue'),
    meta: { public: true, title: '摄像机设置' },
  },
  {
    path: '/consent',
    name: 'consent',
    component: () => import('./views/ConsentView.vue'),
    meta: { title: '使用告知' },
  },
  {
    path: '/register',
    name: 'register',
    component: () => import('./views/RegisterView.vue'),
    meta: { needsConsent: true, title: '来访登记' },
  },
  {
    path: '/register/result',
    name: 'result',
    component: () => import('./views/ResultView.vue'),
    meta: { title: '登记结果' },
  },
  {
    path: '/visits',
    name: 'visits',
    component: () => import('./views/VisitsView.vue'),
    meta: { title: '今日到访' },
  },
  {
    path: '/calls',
    name: 'calls',
    component: () => import('./views/CallsView.vue'),
    meta: { title: '来电登记' },
  },
  {
    path: '/board',
    name: 'board',
    component: () => import('./views/BoardView.vue'),
    meta: { title: '顾问上岗' },
  },
  { path: '/:rest(.*)*', redirect: '/consent' },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

router.beforeEach((to) => {
  const device = useDeviceStore()
  const token = to.query.token
  if (typeof token === 'string') {
    // Provisioning link: keep the token, then take it out of the address bar.
    device.adoptFromLink(token)
    const query = { ...to.query }
    delete query.token
    return { path: to.path, query, hash: to.hash, replace: true }
  }
  if (!to.meta.public && !device.configured) return { name: 'setup' }
  if (to.meta.needsConsent && !useConsentStore().isValid()) return { name: 'consent' }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title ?? '来访登记'} · 案场前台`
})
