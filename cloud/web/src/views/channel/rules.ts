/**
 * The channel rule set (docs/attribution.md) as a console form: every parameter with a
 * Chinese label, durations in the unit a manager thinks in, and the server's checks
 * repeated so a mistake shows before sending. The server checks everything again.
 */
import type { RuleParameters } from '@/api/channel'

const UNIT_SECONDS = { D: 86400, H: 3600, M: 60, S: 1 } as const

/** ISO 8601 duration (P3D, PT30M, P1DT2H, PT1800S) → seconds; NaN when unreadable. */
export function durationSeconds(iso: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso)
  if (!m || iso === 'P' || iso.endsWith('T')) return Number.NaN
  const [d, h, min, s] = m.slice(1).map((v) => (v ? Number(v) : 0))
  return (d ?? 0) * UNIT_SECONDS.D + (h ?? 0) * UNIT_SECONDS.H + (min ?? 0) * UNIT_SECONDS.M + (s ?? 0)
}

/** Seconds → ISO 8601 (whole seconds). */
export function isoDuration(seconds: number): string {
  return `PT${Math.round(seconds)}S`
}

/** "3 天" / "30 分钟" / "1 天 2 小时" */
export function durationText(iso: string): string {
  let rest = durationSeconds(iso)
  if (Number.isNaN(rest)) return iso
  const parts: string[] = []
  for (const [unit, size] of [['天', 86400], ['小时', 3600], ['分钟', 60], ['秒', 1]] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n} ${unit}`)
    rest -= n * size
  }
  return parts.join(' ') || '0'
}

export const MODE = { report_protection: '报备保护（先报先得）', competitive_visit: '竞争带看（先带看先得）', visit_wins: '到访为王（无报备保护）' }
export const CONFIRMATION = { instant: '报备即判定', on_site: '带看现场确认' }
export const STAGES = { two: '两段式（到访起算）', one: '一段式（报备起算）' }
export const DEAL = { pledge: '认筹', subscription: '认购', contract: '签约' }
export const PHONE = { full: '完整号码', '3+4': '前3后4（138****5678）', '3+6': '前3后6', first9: '前9位', first7: '前7位' }
export const COMPLETION = { visit: '带看到访时', subscription: '认购时', contract: '签约时' }
export const NAME = { full: '全名', surname: '仅姓氏（如 张先生）' }
export const OLD_OWNER = { other_projects: '仅可报备其他项目的业主', none: '业主一律不可报备', all: '业主均可报备' }

/** Parameter → Chinese label, in the order the form and the version view show them. */
export const FIELD_NAMES: Record<string, string> = {
  attribution_mode: '判客模式',
  confirmation: '判定时机',
  developer_approval: '开发商审核报备',
  lead_time: '防截客时间',
  referral_protection: '报备保护期',
  visit_protection: '到访保护期',
  protection_stages: '保护期计算',
  deal_milestone: '成交节点',
  follow_up_lapse: '跟进逾期周期',
  recycle: '逾期转入公客池',
  consultant_protection: '置业顾问保护期',
  warnings: '到期提醒',
  phone_policy: '号码要求',
  completion_stage: '补全号码时机',
  name_policy: '姓名要求',
  old_owner_policy: '老业主报备',
  re_referral: '失效后允许再次报备',
  live_referral_cap: '经纪人有效报备上限',
  team_overrides: '渠道团队差异规则',
}

const CHOICES: Record<string, Record<string, string>> = {
  attribution_mode: MODE, confirmation: CONFIRMATION, protection_stages: STAGES, deal_milestone: DEAL,
  phone_policy: PHONE, completion_stage: COMPLETION, name_policy: NAME, old_owner_policy: OLD_OWNER,
}

/** One parameter's value as a manager reads it. */
export function valueText(field: string, value: unknown): string {
  if (value === null || value === undefined) {
    return field === 'live_referral_cap' ? '不限' : field === 'follow_up_lapse' ? '不限制' : '—'
  }
  if (typeof value === 'boolean') return value ? '是' : '否'
  const choices = CHOICES[field]
  if (choices && typeof value === 'string') return choices[value] ?? value
  if (typeof value === 'string' && value.startsWith('P')) return durationText(value)
  if (field === 'referral_protection' && typeof value === 'object') {
    const w = value as { kind: string; length?: string; until?: string; days?: number }
    if (w.kind === 'duration') return `报备后 ${durationText(w.length ?? '')}`
    return `定点：报备${w.days ? ` ${w.days} 天后` : '当天'} ${(w.until ?? '').slice(0, 5)} 止`
  }
  if (field === 'warnings' && typeof value === 'object') {
    const w = value as Record<string, string>
    return `报备 ${durationText(w.referral ?? '')}、到访 ${durationText(w.visit ?? '')}、跟进 ${durationText(w.follow_up ?? '')} 前`
  }
  if (field === 'team_overrides' && typeof value === 'object') {
    const teams = Object.keys(value as object)
    return teams.length ? teams.join('、') : '无'
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/** The form's model: durations in minutes, hours or days. */
export interface RulesForm {
  attribution_mode: string
  confirmation: string
  developer_approval: boolean
  lead_time_minutes: number
  referral_kind: 'duration' | 'clock'
  referral_hours: number
  referral_until: string // HH:mm
  referral_days: number
  visit_protection_days: number
  protection_stages: string
  deal_milestone: string
  follow_up_lapse_on: boolean
  follow_up_lapse_days: number
  recycle: boolean
  consultant_protection_days: number
  warn_referral_hours: number
  warn_visit_hours: number
  warn_follow_up_hours: number
  phone_policy: string
  completion_stage: string
  name_policy: string
  old_owner_policy: string
  re_referral: boolean
  live_referral_cap: number | null
  team_overrides: string // JSON
}

const hours = (iso: unknown) => durationSeconds(String(iso)) / 3600
const days = (iso: unknown) => durationSeconds(String(iso)) / 86400

export function formOf(rules: RuleParameters): RulesForm {
  const window = rules.referral_protection as { kind: string; length?: string; until?: string; days?: number }
  const warnings = rules.warnings as Record<string, string>
  return {
    attribution_mode: String(rules.attribution_mode),
    confirmation: String(rules.confirmation),
    developer_approval: Boolean(rules.developer_approval),
    lead_time_minutes: durationSeconds(String(rules.lead_time)) / 60,
    referral_kind: window.kind === 'clock' ? 'clock' : 'duration',
    referral_hours: window.kind === 'duration' ? hours(window.length) : 72,
    referral_until: window.kind === 'clock' ? (window.until ?? '23:59').slice(0, 5) : '23:59',
    referral_days: window.kind === 'clock' ? (window.days ?? 0) : 0,
    visit_protection_days: days(rules.visit_protection),
    protection_stages: String(rules.protection_stages),
    deal_milestone: String(rules.deal_milestone),
    follow_up_lapse_on: rules.follow_up_lapse !== null,
    follow_up_lapse_days: rules.follow_up_lapse === null ? 7 : days(rules.follow_up_lapse),
    recycle: Boolean(rules.recycle),
    consultant_protection_days: days(rules.consultant_protection),
    warn_referral_hours: hours(warnings.referral),
    warn_visit_hours: hours(warnings.visit),
    warn_follow_up_hours: hours(warnings.follow_up),
    phone_policy: String(rules.phone_policy),
    completion_stage: String(rules.completion_stage),
    name_policy: String(rules.name_policy),
    old_owner_policy: String(rules.old_owner_policy),
    re_referral: Boolean(rules.re_referral),
    live_referral_cap: (rules.live_referral_cap as number | null) ?? null,
    team_overrides: JSON.stringify(rules.team_overrides ?? {}, null, 2),
  }
}

export function parametersOf(form: RulesForm): RuleParameters {
  return {
    attribution_mode: form.attribution_mode,
    confirmation: form.confirmation,
    developer_approval: form.developer_approval,
    lead_time: isoDuration(form.lead_time_minutes * 60),
    referral_protection: form.referral_kind === 'duration'
      ? { kind: 'duration', length: isoDuration(form.referral_hours * 3600) }
      : { kind: 'clock', until: `${form.referral_until}:00`, days: form.referral_days },
    visit_protection: isoDuration(form.visit_protection_days * 86400),
    protection_stages: form.protection_stages,
    deal_milestone: form.deal_milestone,
    follow_up_lapse: form.follow_up_lapse_on ? isoDuration(form.follow_up_lapse_days * 86400) : null,
    recycle: form.recycle,
    consultant_protection: isoDuration(form.consultant_protection_days * 86400),
    warnings: {
      referral: isoDuration(form.warn_referral_hours * 3600),
      visit: isoDuration(form.warn_visit_hours * 3600),
      follow_up: isoDuration(form.warn_follow_up_hours * 3600),
    },
    phone_policy: form.phone_policy,
    completion_stage: form.completion_stage,
    name_policy: form.name_policy,
    old_owner_policy: form.old_owner_policy,
    re_referral: form.re_referral,
    live_referral_cap: form.live_referral_cap || null,
    team_overrides: JSON.parse(form.team_overrides || '{}') as unknown,
  }
}

/** What the server would refuse, in its words; empty when the form is sendable. */
export function problems(form: RulesForm): string[] {
  const found: string[] = []
  if (form.referral_kind === 'duration' && form.warn_referral_hours >= form.referral_hours) {
    found.push('报备保护期的提醒时间必须短于保护期')
  }
  if (form.referral_kind === 'clock' && form.referral_days > 0 && form.warn_referral_hours >= form.referral_days * 24) {
    found.push('报备保护期的提醒时间必须短于保护期')
  }
  if (form.warn_visit_hours >= form.visit_protection_days * 24) found.push('到访保护期的提醒时间必须短于保护期')
  if (form.follow_up_lapse_on && form.warn_follow_up_hours >= form.follow_up_lapse_days * 24) {
    found.push('跟进逾期的提醒时间必须短于跟进周期')
  }
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(form.referral_until)) found.push('定点截止时刻须为 HH:mm')
  try {
    const teams: unknown = JSON.parse(form.team_overrides || '{}')
    if (typeof teams !== 'object' || teams === null || Array.isArray(teams)) found.push('渠道团队差异规则须为 JSON 对象')
  } catch {
    found.push('渠道团队差异规则不是合法的 JSON')
  }
  return found
}
