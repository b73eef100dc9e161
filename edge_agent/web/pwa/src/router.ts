import { createRouter, createWebHistory } from 'vue-router'
import { mayOpen } from './lib/roles'
import { useSession } from './stores/session'
import { showFailToast } from './ui'
import LoginView from './views/LoginView.vue'
import TodayView from './views/TodayView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    title: string
    public?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'today', component: TodayView, meta: { title: '今日我的来访' } },
    {
      path: '/login',
      name: 'login',
      // In the entry chunk like TodayView: one of the two is the first screen of every
      // start, and a lazy chunk is one more round trip after the app's own script.
      component: LoginView,
      meta: { title: '登录', public: true },
    },
    {
      path: '/customers',
      name: 'customers',
      component: () => import('./views/CustomersView.vue'),
      meta: { title: '我的客户' },
    },
    {
      path: '/customers/:key',
      name: 'customer',
      component: () => import('./views/CustomerView.vue'),
      meta: { title: '客户详情' },
    },
    {
      path: '/follow-up',
      name: 'follow-up',
      component: () => import('./views/FollowUpView.vue'),
      meta: { title: '写跟进' },
    },
    {
      path: '/calls',
      name: 'calls',
      component: () => import('./views/CallView.vue'),
      meta: { title: '来电登记' },
    },
    {
      path: '/units',
      name: 'units',
      component: () => import('./views/UnitsView.vue'),
      meta: { title: '房源' },
    },
    {
      path: '/reception',
      name: 'reception',
      component: () => import('./views/ReceptionView.vue'),
      meta: { title: '接待管理' },
    },
    {
      path: '/reception/face-consent',
      name: 'face-consent',
      component: () => import('./views/FaceConsentView.vue'),
      meta: { title: '撤回人脸授权' },
    },
    {
      path: '/analysis',
      name: 'analysis',
      component: () => import('./views/AnalysisView.vue'),
      meta: { title: '销售分析' },
    },
    {
      path: '/deals',
      name: 'deals',
      component: () => import('./views/DealsView.vue'),
      meta: { title: '我的交易' },
    },
    {
      path: '/deals/new',
      name: 'deal-new',
      component: () => import('./views/DealCreateView.vue'),
      meta: { title: '写认筹 / 认购' },
    },
    {
      path: '/deals/:id(\\d+)',
      name: 'deal',
      component: () => import('./views/DealView.vue'),
      meta: { title: '单据详情' },
    },
    {
      path: '/pool',
      name: 'pool',
      component: () => import('./views/PoolView.vue'),
      meta: { title: '公客池' },
    },
    {
      path: '/queue',
      name: 'queue',
      component: () => import('./views/QueueView.vue'),
      meta: { title: '待同步' },
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  const session = useSession()
  if (!to.meta.public && !session.user) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (!mayOpen(String(to.name), session.roles)) {
    showFailToast(`您的角色不能使用“${to.meta.title}”`)
    return { name: 'today' }
  }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title} · 案场顾问`
})
