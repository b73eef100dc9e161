export type ReferralState = 'pending' | 'confirmed' | 'invalid' | 'expired'
export type PhonePolicy = 'full' | '3+4' | '3+6' | 'first9' | 'first7'

export interface TokenOut {
  access_token: string
}

export interface BrokerMe {
  id: number
  kind: 'agency' | 'referrer'
  status: 'pending' | 'active' | 'frozen'
  agency_name: string | null
  agency_status: string | null
  phone_masked: string
  can_refer: boolean
}

export interface Campaign {
  id: number
  title: string
  requirements: string
  rewards: string
  announcement: string
  starts_at: string
  ends_at: string
  project_ids: number[]
}

export interface RuleSummary {
  version: number
  attribution_mode: string
  referral_protection_hours: number | null
  referral_protection_text: string
  visit_protection_days: number
  lead_time_minutes: number
  phone_policy: PhonePolicy
  name_policy: 'full' | 'surname'
}

export interface BrokerProject {
  id: number
  name: string
  city: string
  district: string
  price_min_yuan: number | null
  price_max_yuan: number | null
  layouts: string[]
  cooperation: string
  rules: RuleSummary
  campaigns: Campaign[]
}

export interface ProjectFilter {
  district?: string
  price_min?: number
  price_max?: number
  layout?: string
}

export interface Referral {
  id: number
  project_id: number
  phone_masked: string
  customer_name: string | null
  state: ReferralState
  reason_code: string
  reason: string
  protection_until: string | null
  created_at: string
}

export interface BrokerCustomer extends Referral {
  project_name: string
  customer_group: 'individual' | 'corporate'
  visits: string[]
}

export interface ReferralQr {
  token: string
  qr_text: string
  expires_at: string
}

/** wx.config's signed parameters for one page (POST /channel/wechat/js-config). */
export interface JsConfig {
  app_id: string
  timestamp: number
  nonce_str: string
  signature: string
  js_api_list: string[]
}

export interface Invites {
  code: string
  link: string
  invited_count: number
  invited: { display_name: string; joined_at: string }[]
}

export interface Appeal {
  id: number
  referral_id: number
  reason: string
  state: string
  decision?: string | null
  created_at?: string
}

/** A prospecting task (拓客任务) as the broker sees it; counts come from the server. */
export interface TaskLeaderRow {
  rank: number
  kind: 'agency' | 'broker'
  id: number
  name: string
  agency_name: string | null
  target: number
  count: number
  rate: number
  mine: boolean
}

export interface BrokerTask {
  id: number
  title: string
  description: string
  metric: string
  metric_name: string
  project_names: string[]
  start_date: string
  end_date: string
  status: 'published' | 'closed'
  level: 'agency' | 'broker'
  target: number
  count: number
  rate: number
  rank: number
  ranked: number
  my_count: number
}

export interface BrokerTaskDetail extends BrokerTask {
  leaderboard: TaskLeaderRow[]
}

export type ShareKind = 'project' | 'campaign'

export interface ShareStats {
  visitors: number
  opens: number
  views: number
  seconds: number
  leads: number
  last_seen_at: string | null
}

export interface Share {
  id: number
  kind: ShareKind
  project_id: number | null
  campaign_id: number | null
  title: string
  token: string
  path: string
  created_at: string
  expires_at: string
  stats: ShareStats
}

export interface Lead {
  id: number
  share_id: number
  project_id: number
  project_name: string
  customer_name: string | null
  phone_masked: string
  created_at: string
  views: number
  seconds: number
  last_seen_at: string | null
  referral_id: number | null
  referral_state: ReferralState | null
  referral_reason: string | null
  converted_at: string | null
}

export interface PublicProject {
  id: number
  name: string
  city: string
  district: string
  price_min_yuan: number | null
  price_max_yuan: number | null
  layouts: string[]
}

export interface PublicShare {
  kind: ShareKind
  broker_name: string
  project: PublicProject | null
  campaign: { id: number; title: string; announcement: string; starts_at: string; ends_at: string } | null
  projects: PublicProject[]
  consent_version: string
  consent_text: string
  card: ShareCard | null
}

/** 分享卡片: what WeChat and other apps show for the link. */
export interface ShareCard {
  title: string
  desc: string
  image_url: string
}

export interface Notification {
  id: number
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  created_at: string
  read_at: string | null
}

export interface Unread {
  unread: number
  marked?: number | null
}
