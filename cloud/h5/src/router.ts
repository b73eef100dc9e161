import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'

import { loadMe, me } from './broker'
import { session } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown signed out (the login page). */
    public?: boolean
    /** Shown to a broker who may not refer yet (pending, frozen). */
    anyState?: boolean
    /** The tab bar is shown. */
    tab?: boolean
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/projects' },
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'),
    meta: { public: true, title: '登录' } },
  { path: '/state', name: 'state', component: () => import('./views/StateView.vue'),
    meta: { anyState: true, title: '账号状态' } },
  { path: '/projects', name: 'projects', component: () => import('./views/ProjectsView.vue'),
    meta: { tab: true, title: '我的项目' } },
  { path: '/refer', name: 'refer', component: () => import('./views/ReferView.vue'),
    meta: { tab: true, title: '报备客户' } },
  { path: '/customers', name: 'customers', component: () => import('./views/CustomersView.vue'),
    meta: { tab: true, title: '我的客户' } },
  { path: '/customers/:id/qr', name: 'qr', component: () => import('./views/QrView.vue'),
    meta: { title: '带看码' } },
  { path: '/mine', name: 'mine', component: () => import('./views/MineView.vue'),
    meta: { tab: true, anyState: true, title: '我的' } },
  { path: '/invite', name: 'invite', component: () => import('./views/InviteView.vue'),
    meta: { anyState: true, title: '邀请好友' } },
  { path: '/tasks', name: 'tasks', component: () => import('./views/TasksView.vue'),
    meta: { title: '我的任务' } },
  { path: '/tasks/:id', name: 'task', component: () => import('./views/TaskView.vue'),
    meta: { title: '任务排行' } },
  { path: '/messages', name: 'messages', component: () => import('./views/MessagesView.vue'),
    meta: { anyState: true, title: '我的消息' } },
  { path: '/appeals', name: 'appeals', component: () => import('./views/AppealsView.vue'),
    meta: { title: '我的申诉' } },
  { path: '/leads', name: 'leads', component: () => import('./views/LeadsView.vue'),
    meta: { title: '我的线索' } },
  // The public page of a share link: whoever holds the link, signed in or not.
  { path: '/s/:token', name: 'public-share', component: () => import('./views/PublicShareView.vue'),
    meta: { public: true, title: '楼盘推荐' } },
  { path: '/:pathMatch(.*)*', redirect: '/projects' },
]

export const router = createRouter({ history: createWebHistory('/h5/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.token.value) return { name: 'login', query: { next: to.fullPath } }
  try {
    await loadMe()
  } catch {
    return true // the page itself says what failed
  }
  if (!to.meta.anyState && !me.value?.can_refer) return { name: 'state' }
  return true
})

router.afterEach((to) => {
  if (to.name === 'public-share') document.title = '楼盘推荐'
  else document.title = to.meta.title ? `${to.meta.title} · 经纪人` : '经纪人'
})
