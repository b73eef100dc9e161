import {
  DataLine,
  Document,
  Grid,
  List,
  Lock,
  Monitor,
  Odometer,
  Setting,
  Tickets,
  TrendCharts,
  Upload,
  User,
  UserFilled,
} from '@element-plus/icons-vue'
import type { RouteRecordRaw } from 'vue-router'

import { CUSTOMER_PAGE, Perm, SITES_PAGE } from '@/access/permissions'

import { channelRoutes } from './channelRoutes'

const INVENTORY_GROUP = '房源'

// Every page is its own chunk: the first screen (login) loads none of them.
export const consoleChildren: RouteRecordRaw[] = [
  {
    path: 'dashboard',
    name: 'dashboard',
    component: () => import('@/views/dashboard/DashboardView.vue'),
    meta: { title: '首页', permission: Perm.VISIT_READ, menu: { icon: Odometer, order: 10 } },
  },
  {
    path: 'visits',
    name: 'visits',
    component: () => import('@/views/visits/VisitsView.vue'),
    meta: { title: '到访记录', permission: Perm.VISIT_READ, menu: { icon: DataLine, order: 20 } },
  },
  {
    path: 'rota',
    name: 'rota',
    component: () => import('@/views/reception/RotaEventsView.vue'),
    meta: { title: '轮岗记录', permission: Perm.VISIT_READ, menu: { icon: List, order: 22 } },
  },
  {
    path: 'reception/settings',
    name: 'reception-settings',
    component: () => import('@/views/reception/ReceptionSettingsView.vue'),
    meta: {
      title: '接待设置', permission: [Perm.RECEPTION_CONFIGURE, Perm.PROJECT_READ],
      menu: { icon: Setting, order: 23 },
    },
  },
  {
    path: 'customers/:id(\\d+)',
    name: 'customer',
    component: () => import('@/views/customers/CustomerView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: {
      title: '客户详情',
      permission: CUSTOMER_PAGE,
      parent: 'visits',
    },
  },
  {
    path: 'ownership',
    name: 'ownership',
    component: () => import('@/views/ownership/OwnershipView.vue'),
    meta: { title: '客户归属', permission: Perm.CUSTOMER_READ, menu: { icon: UserFilled, order: 21 } },
  },
  {
    path: 'analysis',
    name: 'sales-analysis',
    component: () => import('@/views/analysis/SalesAnalysisView.vue'),
    meta: {
      title: '销售分析', permission: [Perm.SALES_ANALYSIS_READ, Perm.PROJECT_READ],
      menu: { icon: TrendCharts, order: 23 },
    },
  },
  {
    path: 'sites',
    name: 'sites',
    component: () => import('@/views/sites/SitesView.vue'),
    // Channel managers open it for the sites' positions only: their day starts in 渠道.
    meta: {
      title: '案场设备', permission: SITES_PAGE,
      menu: { icon: Monitor, order: 30, homeWhen: Perm.SYNC_READ },
    },
  },
  {
    path: 'users',
    name: 'users',
    component: () => import('@/views/users/UsersView.vue'),
    meta: { title: '用户与角色', permission: Perm.USER_READ, menu: { icon: User, order: 40 } },
  },
  {
    path: 'privacy',
    name: 'privacy',
    component: () => import('@/views/privacy/PrivacyRequestsView.vue'),
    meta: { title: '个人信息请求', permission: Perm.PRIVACY_REQUEST, menu: { icon: Lock, order: 45 } },
  },
  {
    path: 'audit',
    name: 'audit',
    component: () => import('@/views/audit/AuditView.vue'),
    meta: { title: '审计日志', permission: Perm.AUDIT_READ, menu: { icon: Document, order: 50 } },
  },
  ...channelRoutes,
  {
    path: 'deals',
    name: 'deals',
    component: () => import('@/views/deals/DealsView.vue'),
    meta: {
      title: '交易单据', permission: [Perm.DEAL_READ, Perm.PROJECT_READ],
      menu: { icon: Tickets, order: 27, group: INVENTORY_GROUP },
    },
  },
  {
    path: 'inventory/grid',
    name: 'inventory-grid',
    component: () => import('@/views/inventory/GridView.vue'),
    meta: {
      title: '销控表', permission: [Perm.INVENTORY_READ, Perm.PROJECT_READ],
      menu: { icon: Grid, order: 24, group: INVENTORY_GROUP },
    },
  },
  {
    path: 'inventory/log',
    name: 'inventory-log',
    component: () => import('@/views/inventory/LogView.vue'),
    meta: {
      title: '销控日志', permission: [Perm.INVENTORY_READ_ALL, Perm.PROJECT_READ],
      menu: { icon: Tickets, order: 25, group: INVENTORY_GROUP },
    },
  },
  {
    path: 'inventory/import',
    name: 'inventory-import',
    component: () => import('@/views/inventory/ImportView.vue'),
    meta: {
      title: '房源导入', permission: [Perm.INVENTORY_MANAGE, Perm.PROJECT_READ],
      menu: { icon: Upload, order: 26, group: INVENTORY_GROUP },
    },
  },
  {
    path: '403',
    name: 'forbidden',
    component: () => import('@/views/error/ErrorView.vue'),
    props: { status: 403 },
    meta: { title: '无权访问' },
  },
  {
    path: ':pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/error/ErrorView.vue'),
    props: { status: 404 },
    meta: { title: '页面不存在' },
  },
]

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/login/LoginView.vue'),
    meta: { title: '登录', public: true },
  },
  {
    path: '/password',
    name: 'password',
    component: () => import('@/views/login/ChangePasswordView.vue'),
    meta: { title: '修改密码', allowPendingPassword: true },
  },
  {
    path: '/',
    component: () => import('@/layouts/ConsoleLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/error/ErrorView.vue'), props: { status: 404 } },
      ...consoleChildren,
    ],
  },
]
