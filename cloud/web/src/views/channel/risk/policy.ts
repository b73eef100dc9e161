// A project's risk policy (渠道风控设置) as the console edits it: each check's action and
// parameters, what changed since it was read (the API changes only the checks it is
// given), and what the server would refuse.
import type { CheckParam, RiskAction, RiskCheck, RiskPolicy, RiskPolicyChange } from '@/api/channelCasework'

export const ACTION_NAMES: Record<RiskAction, string> = {
  off: '关闭',
  flag: '仅标记',
  review: '立案复核',
  block: '拦截报备',
}

export const STAGE_NAMES: Record<string, string> = {
  referral: '报备',
  confirmation: '成交确认',
  allocation: '分配',
  visit: '到访',
}

export const STATUS_NAMES: Record<string, string> = {
  active: '',
  needs_deals: '待成交数据接入后生效',
  needs_cameras: '待摄像头接入后生效',
}

export interface Setting {
  action: RiskAction
  params: Record<string, number>
}

export interface PolicyForm {
  appeal_deadline_days: number
  checks: Record<string, Setting>
}

export function formOf(policy: RiskPolicy): PolicyForm {
  return {
    appeal_deadline_days: policy.appeal_deadline_days,
    checks: Object.fromEntries(policy.checks.map((c) => [c.code, { action: c.action, params: { ...c.params } }])),
  }
}

/** The face checks first (they have their own rules), then the others in the server's order. */
export function groupsOf(policy: RiskPolicy): { faces: RiskCheck[]; others: RiskCheck[] } {
  return { faces: policy.checks.filter((c) => c.faces), others: policy.checks.filter((c) => !c.faces) }
}

export function defaultsOf(check: RiskCheck): Setting {
  return { action: check.default_action, params: Object.fromEntries(check.param_specs.map((p) => [p.name, p.default])) }
}

function same(a: Setting, b: Setting): boolean {
  return a.action === b.action && Object.keys({ ...a.params, ...b.params }).every((k) => a.params[k] === b.params[k])
}

/** The check's setting in the form (formOf fills every check; a check the server added
 * since starts at its defaults). */
export function settingOf(form: PolicyForm, check: RiskCheck): Setting {
  return (form.checks[check.code] ??= defaultsOf(check))
}

export function isDefault(check: RiskCheck, setting: Setting): boolean {
  return same(defaultsOf(check), setting)
}

/** Only what differs from the policy as read: the body of the PUT, or null when nothing does. */
export function changesOf(policy: RiskPolicy, form: PolicyForm): RiskPolicyChange | null {
  const change: RiskPolicyChange = {}
  if (form.appeal_deadline_days !== policy.appeal_deadline_days) change.appeal_deadline_days = form.appeal_deadline_days
  const checks: NonNullable<RiskPolicyChange['checks']> = {}
  for (const c of policy.checks) {
    const setting = form.checks[c.code]
    if (setting && !same(setting, { action: c.action, params: c.params })) {
      checks[c.code] = { action: setting.action, params: { ...setting.params } }
    }
  }
  if (Object.keys(checks).length) change.checks = checks
  return Object.keys(change).length ? change : null
}

function paramProblem(check: RiskCheck, spec: CheckParam, value: number | undefined): string | null {
  if (value === undefined || !Number.isInteger(value) || value < spec.min || value > spec.max) {
    return `${check.title}：${spec.label}应为 ${spec.min}–${spec.max} 的整数`
  }
  return null
}

/** What the server would refuse, in its words; empty when the form can be saved. */
export function problems(policy: RiskPolicy, form: PolicyForm): string[] {
  const found: string[] = []
  if (!Number.isInteger(form.appeal_deadline_days) || form.appeal_deadline_days < 1 || form.appeal_deadline_days > 90) {
    found.push('申诉期限应为 1–90 天')
  }
  for (const c of policy.checks) {
    const setting = form.checks[c.code]
    if (!setting) continue
    if (!c.actions.includes(setting.action)) found.push(`${c.title}：不能设为「${ACTION_NAMES[setting.action]}」`)
    for (const spec of c.param_specs) {
      const problem = paramProblem(c, spec, setting.params[spec.name])
      if (problem) found.push(problem)
    }
  }
  return found
}
