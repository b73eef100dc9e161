/** Chinese names for codes the API returns. */

export const ROLE_NAMES: Record<string, string> = {
  sys_admin: '系统管理员',
  security_admin: '安全管理员',
  audit_admin: '审计管理员',
  hq_manager: '总部管理',
  sales_director: '销售总监',
  sales_manager: '销售经理',
  consultant: '置业顾问',
  receptionist: '前台',
  privacy_officer: '个人信息保护专员',
  broker: '经纪人',
  agency_admin: '渠道公司管理员',
  channel_manager: '渠道经理',
}

export const VISIT_SOURCE_NAMES: Record<string, string> = {
  natural: '自然到访',
  channel: '渠道带看',
  referral_old_customer: '老带新',
  online: '线上预约',
  other: '其他',
}

/** Every action the backend records (grep `action=` in cloud/), by domain. */
export const AUDIT_ACTION_NAMES: Record<string, string> = {
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.refresh': '登录会话失效',
  'auth.password_change': '修改密码',
  'auth.edge_token': '签发案场设备令牌',
  'auth.denied': '越权访问被拒绝',
  'auth.network_refused': '管理员在允许网络之外的访问被拒绝',
  'user.create': '创建用户',
  'user.update': '修改用户',
  'user.roles': '设置角色',
  'user.scopes': '设置数据范围',
  'user.password_reset': '重置密码',
  'user.disable_inactive': '长期未登录停用',
  'audit.read': '查询审计日志',
  'audit.export': '导出审计日志',
  'audit.checkpoint': '审计链签名检查点',
  'audit.archive': '审计记录到期归档',
  'customer.unmask': '查看客户号码',
  'customer.lookup': '前台查询客户',
  'customer.search': '按号码搜索客户',
  'customer.pickup_request': '申请领取公客',
  'customer.pickup_approve': '同意领取公客',
  'customer.pickup_refuse': '拒绝领取公客',
  'customer.transfer': '转交客户',
  'customer.allocate': '分配客户',
  'customer.invalidate': '标记无效客户',
  'customer.collision_resolve': '处理撞单',
  'customer.stage': '变更客户阶段',
  'sales.ownership_settings': '修改客户归属规则',
  'sales.analysis_export': '导出销售分析',
  'visit.export': '导出到访记录',
  'visit.correct': '经理当天更正到访',
  'customer.claim': '认领“忘了顾问”的客户',
  'follow_up.create': '新增跟进',
  'site.create': '新建案场',
  'site.credentials_issued': '签发案场凭据',
  'camera.credentials': '现场工程师填写摄像机账号密码',
  'camera.confirm': '现场工程师确认启用摄像机',
  'camera.ignore': '现场工程师忽略摄像机',
  'project.create': '新建项目',
  'privacy.request_create': '登记个人信息请求',
  'privacy.subject_data': '查阅申请人个人信息',
  'privacy.correct': '更正个人信息',
  'privacy.erase': '删除个人信息',
  'privacy.complete': '办结个人信息请求',
  'privacy.refuse': '拒绝个人信息请求',
  'channel.agency_invite': '邀请渠道公司',
  'channel.agency_update': '变更渠道公司状态或评级',
  'channel.broker_join': '经纪人凭邀请码加入',
  'channel.broker_update': '变更经纪人状态或评级',
  'channel.rules_publish': '发布渠道规则版本',
  'channel.referral_submit': '提交报备',
  'channel.referral_redecide': '报备重新判定',
  'channel.referral_review': '开发商审核报备',
  'channel.cooperation_update': '设置项目合作渠道',
  'channel.sms_send': '发送登录短信验证码',
  'channel.broker_signup': '经纪人注册（邀请）',
  'channel.wechat_bind': '微信绑定经纪人手机号',
  'channel.attribution_view': '查看判客依据',
  'channel.rules_what_if': '渠道规则模拟',
  'channel.profile_update': '编辑项目资料（经纪人端）',
  'channel.campaign_create': '新建渠道活动',
  'channel.share_create': '经纪人生成分享链接',
  'channel.lead_create': '访客留资（拓客线索）',
  'channel.campaign_update': '修改渠道活动',
  'channel.campaign_publish': '发布渠道活动',
  'channel.campaign_end': '结束渠道活动',
  'channel.task_create': '新建拓客任务',
  'channel.task_update': '修改拓客任务',
  'channel.task_publish': '发布拓客任务',
  'channel.task_close': '关闭拓客任务',
  'channel.task_cancel': '取消拓客任务',
  'channel.qr_issue': '生成带看二维码',
  'channel.qr_check_in': '扫码带看确认',
  'channel.qr_refused': '带看二维码被拒收',
  'channel.qr_replayed': '带看二维码重复使用（风险）',
  'channel.guide_picked': '前台手工指定带看经纪人',
  'channel.referral_override': '人工改判报备',
  'channel.analytics_export': '导出渠道多维查询',
  'channel.attribution_export': '导出判客依据',
  'channel.appeal_submit': '提起申诉',
  'channel.appeal_withdraw': '撤回申诉',
  'channel.appeal_review': '开始审核申诉',
  'channel.appeal_decide': '处理申诉',
  'channel.appeal_evidence_upload': '上传申诉材料',
  'channel.appeal_evidence_download': '查看申诉材料',
  'channel.risk_case_open': '风控检查立案',
  'channel.risk_case_review': '复核风控案件',
  'channel.risk_policy_update': '修改项目风控设置',
  'sync.events_applied': '同步入库',
  'sync.gap_unhealed': '同步断档',
  'sync.clock_skew': '时钟偏差',
  'sync.reject': '拒收同步消息',
  'sync.epoch_enrolled': '登记设备身份',
  'sync.epoch_refused': '拒收未登记的设备身份',
  'sync.epoch_changed': '更换设备身份',
  'sync.reenrol_allowed': '允许设备重新登记',
  'sync.twin_detected': '发现两台设备共用凭据',
  'sync.twin_resolved': '处理设备共用凭据',
  'sync.seq_conflict': '同一序号内容不一致',
  'sync.edge_link': '设备同步停滞或被拒收',
  'sync.edge_storage_full': '设备存储空间已满',
  'sync.cloud_behind': '云端数据落后于设备（可能已从备份恢复）',
  'sync.feed_generation': '下行变更开始新的一代',
  'db.backup': '数据库备份',
  'db.restore': '数据库从备份恢复',
  'unit.import': '导入房源',
  'unit.transition': '变更房源状态（销控）',
  'release_batch.create': '推盘',
  'unit_hold.request': '申请预留房源',
  'unit_hold.approve': '批准预留',
  'unit_hold.reject': '驳回预留',
  'unit_hold.cancel': '撤回预留申请',
  'inventory.settings': '修改销控设置',
}

/** A site's sync alarms: what it means, and what the operator does about it. */
export const SYNC_ALARMS: Record<string, { name: string; todo: string }> = {
  gap_unhealed: { name: '同步断档', todo: '设备的部分数据迟迟未到，云端已自动要求补发；持续存在请检查设备网络' },
  edge_stalled: { name: '同步停滞', todo: '设备已重连仍无进展：检查案场网络、防火墙或代理' },
  epoch_refused: { name: '设备身份未登记', todo: '设备重装或从备份恢复：确认后运行 anchang site re-enrol <案场代码>' },
  twin: { name: '两台设备共用凭据', todo: '关闭多余的设备，再运行 anchang site resolve-twin <案场代码> --keep <实例>' },
  seq_conflict: { name: '同一序号内容不一致', todo: '可能存在克隆设备：核对设备，保留的以先到为准' },
  cloud_behind: { name: '云端数据落后于设备', todo: '云端可能已从备份恢复：运行 anchang sync new-generation，设备会自动补发' },
  edge_storage_full: { name: '设备存储已满', todo: '设备无法保存新登记：清理设备磁盘空间' },
  clock_skew: { name: '时钟偏差', todo: '设备时钟与云端相差过大：检查设备 NTP 设置' },
}

/** What an audit row's object is. */
export const AUDIT_OBJECT_NAMES: Record<string, string> = {
  user: '用户',
  site: '案场',
  project: '项目',
  customer: '客户',
  visit: '到访',
  follow_up: '跟进',
  audit_log: '审计日志',
  mqtt_message: '同步消息',
  channel_appeal: '申诉',
  channel_risk_case: '风控案件',
  unit: '房源',
  unit_hold: '预留申请',
  release_batch: '推盘批次',
}

/** Keys of audit details (`detail`), as the detail viewer names them. */
export const AUDIT_DETAIL_NAMES: Record<string, string> = {
  after: '变更后',
  before: '变更前',
  changes: '变更内容',
  count: '条数',
  cursor: '翻页位置',
  customer_id: '客户编号',
  days: '天数',
  effective: '有效跟进',
  failures: '连续失败次数',
  field: '字段',
  filters: '筛选条件',
  follow_up_id: '跟进编号',
  follow_ups: '跟进',
  held: '暂存事件数',
  is_active: '启用',
  kind: '类型',
  locked: '已锁定',
  lock_seconds: '锁定秒数',
  merged: '合并条数',
  missing_from: '缺失起始序号',
  must_change_password: '须修改密码',
  personal_data_grant: '明确授权查看个人信息的角色',
  name: '名称',
  display_name: '姓名',
  reason: '原因',
  rejected: '拒收',
  roles: '角色',
  scope_all: '全部案场',
  seq: '序号',
  seq_from: '起始序号',
  seq_to: '结束序号',
  session_id: '会话编号',
  site_id: '案场',
  site_ids: '案场',
  skew_seconds: '时钟偏差（秒）',
  truncated: '已截断',
  username: '用户名',
  via: '提交途径',
  visit_id: '到访编号',
  visits: '到访',
  // Filters of reads and exports.
  action_prefix: '事件',
  actor: '操作人',
  result: '结果',
  object_type: '对象类型',
  object_id: '对象编号',
  since: '起始时间',
  until: '结束时间',
  project_id: '项目',
  date_from: '到访日期起',
  date_to: '到访日期止',
  group_by: '分组维度',
  phone: '手机号',
  consultant_id: '置业顾问',
  first_visit: '仅首访',
  // 判客依据 and 规则模拟.
  by: '查询方式',
  customers: '客户数',
  referral_id: '报备编号',
  checked: '回放客户数',
  changed: '变化客户数',
  version: '规则版本',
  // Appeals and risk cases (渠道申诉与风控).
  phone_bidx: '号码索引',
  outcome: '处理结果',
  comment: '意见',
  evidence_id: '材料编号',
  check: '风控检查',
  severity: '级别',
  override_id: '改判编号',
  source: '来源',
  source_id: '来源编号',
  new_state: '改判状态',
  appealed_state: '申诉时状态',
  state: '状态',
  voided: '已作废归属',
  sha256: '文件摘要',
  size: '大小（字节）',
  content_type: '文件类型',
}

/** Codes that appear as detail values (reasons, fields, paths). */
export const AUDIT_VALUE_NAMES: Record<string, string> = {
  unknown_user: '用户名不存在',
  bad_password: '密码错误',
  bad_old_password: '原密码错误',
  locked: '账号已锁定',
  disabled: '账号已停用',
  expired: '会话过期',
  idle: '长时间未操作',
  token_reuse: '令牌被重复使用',
  phone: '手机号',
  edge: '案场设备',
  cloud: '云端',
  success: '成功',
  failure: '失败',
  denied: '越权被拒',
  referral: '报备',
  customer: '客户',
}

/** Groups for the event filter: a prefix matches every event under it. */
export const AUDIT_ACTION_GROUPS: { label: string; prefix: string }[] = [
  { label: '登录与会话', prefix: 'auth.' },
  { label: '用户与权限', prefix: 'user.' },
  { label: '审计日志', prefix: 'audit.' },
  { label: '客户个人信息', prefix: 'customer.' },
  { label: '到访记录导出', prefix: 'visit.' },
  { label: '客户跟进', prefix: 'follow_up.' },
  { label: '客户归属规则与销售分析', prefix: 'sales.' },
  { label: '案场', prefix: 'site.' },
  { label: '项目', prefix: 'project.' },
  { label: '个人信息请求', prefix: 'privacy.' },
  { label: '边缘同步', prefix: 'sync.' },
  { label: '渠道与报备', prefix: 'channel.' },
]

export function roleName(code: string): string {
  return ROLE_NAMES[code] ?? code
}

export function actionName(code: string): string {
  return AUDIT_ACTION_NAMES[code] ?? code
}

/** The sales stage (cloud/sales/stages.py). */
export const CUSTOMER_STATUS_NAMES: Record<string, string> = {
  visited: '到访',
  pledged: '认筹',
  subscribed: '认购',
  to_sign: '待签约',
  signed: '已签约',
  void: '已失效',
  refunded: '退款',
}

/** Who may act on the customer (cloud/sales/ownership_models.py). */
export const OWNERSHIP_NAMES: Record<string, string> = {
  owned: '保护中',
  overdue: '逾期',
  public: '公客',
  invalid: '无效',
}

export const OWNERSHIP_STEP_NAMES: Record<string, string> = {
  receive: '首次接待',
  return_visit: '复访恢复',
  overdue: '跟进逾期',
  to_pool: '释放到公客池',
  pickup: '公客领取',
  transfer: '经理转交',
  allocate: '经理分配',
  invalidate: '标记无效',
  claim: '忘记顾问认领',
}

export const OWNERSHIP_CATEGORY_NAMES: Record<string, string> = {
  mine: '我的客户',
  in_progress: '跟进中',
  overdue: '逾期',
  collided: '撞单',
  public: '公客池',
  invalid: '无效',
  channel: '渠道客户',
  all: '全部',
}

export const LAPSE_REASON_NAMES: Record<string, string> = {
  follow_up_overdue: '有效跟进到期',
  protection_ended: '保护期结束',
}

export const PICKUP_STATUS_NAMES: Record<string, string> = {
  pending: '待审批',
  approved: '已同意',
  refused: '已拒绝',
}

export const FOLLOW_UP_KIND_NAMES: Record<string, string> = {
  call: '电话',
  visit: '到访',
  wechat: '微信',
  meeting: '面谈',
}

export const RECORDED_VIA_NAMES: Record<string, string> = {
  edge: '经案场设备同步',
  cloud: '直接提交到云端',
}

/** The name for a code, or the code itself when it has none. */
export function labelOf(names: Record<string, string>, code: string): string {
  return names[code] ?? code
}
