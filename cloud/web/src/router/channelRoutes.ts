import {
  Aim,
  DataAnalysis,
  Finished,
  Grid,
  Guide,
  House,
  List,
  OfficeBuilding,
  Promotion,
  SetUp,
  Share,
  Stamp,
  Tickets,
  User,
  View,
  Warning,
} from '@element-plus/icons-vue'
import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

import { APPEALS_PAGE, type PermissionCode, Perm } from '@/access/permissions'

/**
 * The 渠道 (channel) area of the console. Its pages are for channel staff (channel
 * managers, HQ): they also need the project list, which outside sellers (brokers, agency
 * admins: they use the broker H5) do not have.
 */
export const CHANNEL_GROUP = '渠道'
const staff = (permission: PermissionCode): PermissionCode[] => [permission, Perm.PROJECT_READ]
const menu = (icon: Component, order: number) => ({ icon, order, group: CHANNEL_GROUP })

export const channelRoutes: RouteRecordRaw[] = [
  {
    path: 'channel/agencies',
    name: 'channel-agencies',
    component: () => import('@/views/channel/AgenciesView.vue'),
    meta: { title: '渠道公司', permission: staff(Perm.AGENCY_READ), menu: menu(OfficeBuilding, 60) },
  },
  {
    path: 'channel/brokers',
    name: 'channel-brokers',
    component: () => import('@/views/channel/BrokersView.vue'),
    meta: { title: '经纪人', permission: staff(Perm.BROKER_READ), menu: menu(User, 61) },
  },
  {
    path: 'channel/referrals',
    name: 'channel-referrals',
    component: () => import('@/views/channel/ReferralsView.vue'),
    meta: { title: '报备记录', permission: staff(Perm.REFERRAL_READ), menu: menu(List, 62) },
  },
  {
    path: 'channel/rules',
    name: 'channel-rules',
    component: () => import('@/views/channel/RulesView.vue'),
    meta: { title: '渠道规则', permission: staff(Perm.CHANNEL_RULES_READ), menu: menu(Stamp, 63) },
  },
  {
    path: 'channel/attribution',
    name: 'channel-attribution',
    component: () => import('@/views/channel/AttributionView.vue'),
    meta: { title: '判客依据', permission: staff(Perm.ATTRIBUTION_READ), menu: menu(Guide, 64) },
  },
  {
    path: 'channel/guided-visits',
    name: 'channel-guided-visits',
    component: () => import('@/views/channel/guided/GuidedVisitsView.vue'),
    meta: { title: '带看记录', permission: staff(Perm.ATTRIBUTION_READ), menu: menu(View, 64.5) },
  },
  {
    path: 'channel/what-if',
    name: 'channel-what-if',
    component: () => import('@/views/channel/WhatIfView.vue'),
    meta: { title: '规则模拟', permission: staff(Perm.CHANNEL_RULES_READ), menu: menu(Finished, 65) },
  },
  {
    path: 'channel/campaigns',
    name: 'channel-campaigns',
    component: () => import('@/views/channel/campaigns/CampaignsView.vue'),
    meta: { title: '渠道活动', permission: staff(Perm.CAMPAIGN_MANAGE), menu: menu(Promotion, 66) },
  },
  {
    path: 'channel/tasks',
    name: 'channel-tasks',
    component: () => import('@/views/channel/tasks/TasksView.vue'),
    meta: { title: '拓客任务', permission: staff(Perm.TASK_READ), menu: menu(Aim, 70) },
  },
  {
    path: 'channel/tasks/:id(\\d+)',
    name: 'channel-task',
    component: () => import('@/views/channel/tasks/TaskDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { title: '任务详情', permission: staff(Perm.TASK_READ), parent: 'channel-tasks' },
  },
  {
    path: 'channel/profiles',
    name: 'channel-profiles',
    component: () => import('@/views/channel/profiles/ProjectProfilesView.vue'),
    meta: { title: '项目资料', permission: staff(Perm.PROJECT_PROFILE_MANAGE), menu: menu(House, 67) },
  },
  {
    path: 'channel/risk',
    name: 'channel-risk',
    component: () => import('@/views/channel/risk/RiskView.vue'),
    meta: { title: '渠道风控', permission: staff(Perm.RISK_READ), menu: menu(Warning, 68) },
  },
  {
    path: 'channel/risk-policy',
    name: 'channel-risk-policy',
    component: () => import('@/views/channel/risk/RiskPolicyView.vue'),
    meta: { title: '风控设置', permission: staff(Perm.RISK_READ), menu: menu(SetUp, 68.5) },
  },
  {
    path: 'channel/appeals',
    name: 'channel-appeals',
    component: () => import('@/views/channel/appeals/AppealsView.vue'),
    meta: { title: '渠道申诉', permission: APPEALS_PAGE, menu: menu(Tickets, 69) },
  },
  {
    path: 'channel/performance',
    name: 'channel-performance',
    component: () => import('@/views/channel/analytics/PerformanceView.vue'),
    meta: { title: '渠道业绩', permission: staff(Perm.ANALYTICS_READ), menu: menu(DataAnalysis, 72) },
  },
  {
    path: 'channel/query',
    name: 'channel-query',
    component: () => import('@/views/channel/analytics/QueryView.vue'),
    meta: { title: '多维查询', permission: staff(Perm.ANALYTICS_READ), menu: menu(Grid, 73) },
  },
  {
    path: 'channel/leads',
    name: 'channel-leads',
    component: () => import('@/views/channel/leads/LeadsView.vue'),
    meta: { title: '拓客线索', permission: staff(Perm.LEAD_READ), menu: menu(Share, 71) },
  },
]
