/** Chinese names for codes the API returns. */

export const ROLE_NAMES: Record<string, string> = {
  sys_admin: '系统管理员',
  security_admin: '安全管理员',
  audit_admin: '审计管理员',
  hq_manager: '总部管理',
  sales_manager: '销售经理',
  consultant: '置业顾问',
  receptionist: '前台',
}

export const VISIT_SOURCE_NAMES: Record<string, string> = {
  natural: '自然到访',
  channel: '渠道带看',
  referral_old_customer: '老带新',
  online: '线上预约',
  other: '其他',
}

export const AUDIT_ACTION_NAMES: Record<string, string> = {
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.refresh': '刷新令牌',
  'auth.password_change': '修改密码',
  'user.create': '创建用户',
  'user.update': '修改用户',
  'user.roles': '设置角色',
  'user.scopes': '设置数据范围',
  'user.password_reset': '重置密码',
  'user.disable_inactive': '长期未登录停用',
  'audit.read': '查询审计日志',
  'audit.export': '导出审计日志',
  'customer.unmask': '查看客户号码',
  'follow_up.create': '新增跟进',
  'site.create': '新建案场',
  'site.credentials_issued': '签发案场凭据',
  'project.create': '新建项目',
  'sync.events_applied': '同步入库',
  'sync.gap_unhealed': '同步断档',
  'sync.clock_skew': '时钟偏差',
  'sync.reject': '拒收同步消息',
}

/** Groups for the event filter: a prefix matches every event under it. */
export const AUDIT_ACTION_GROUPS: { label: string; prefix: string }[] = [
  { label: '登录与会话', prefix: 'auth.' },
  { label: '用户与权限', prefix: 'user.' },
  { label: '审计日志', prefix: 'audit.' },
  { label: '客户个人信息', prefix: 'customer.' },
  { label: '案场与项目', prefix: 'site.' },
  { label: '边缘同步', prefix: 'sync.' },
]

export function roleName(code: string): string {
  return ROLE_NAMES[code] ?? code
}

export function actionName(code: string): string {
  return AUDIT_ACTION_NAMES[code] ?? code
}
