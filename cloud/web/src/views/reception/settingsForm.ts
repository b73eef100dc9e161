import type { DropEffect, DropReason, OrderMode, ReceptionRules } from '@/api/reception'

/** The whole day, as the server states "no office hours set" (time.min … time.max). */
export const DAY_START = '00:00:00'
export const DAY_END = '23:59:59.999999'

export const ORDER_MODES: Record<OrderMode, string> = {
  check_in: '按上岗顺序轮流',
  fewest_new: '当天接待新客最少者优先',
}
export const DROP_REASONS: Record<DropReason, string> = { leave: '请假', rest: '休息', private: '私事' }
export const DROP_EFFECTS: Record<DropEffect, string> = { tail: '排到队尾', off: '退出当天队列' }

/** The form's state: office hours as `HH:mm` beside a "whole day" switch. */
export interface SettingsForm {
  order_mode: OrderMode
  return_consumes_turn: boolean
  drop_effects: Record<DropReason, DropEffect>
  whole_day: boolean
  work_start: string
  work_end: string
  stand_in_share_percent: number
  claim_days: number
  refusal_suspend_days: number
  skip_turns_penalty: number
}

type NumberField = 'stand_in_share_percent' | 'claim_days' | 'refusal_suspend_days' | 'skip_turns_penalty'

/** Each number's label and bounds, as the server checks them (shared/reception.py). */
export const NUMBERS: Record<NumberField, { label: string; unit: string; min: number; max: number }> = {
  stand_in_share_percent: { label: '义务接待成交分成', unit: '%', min: 0, max: 100 },
  claim_days: { label: '“来过但忘了顾问”认领期', unit: '天', min: 0, max: 30 },
  refusal_suspend_days: { label: '拒接客户停岗', unit: '天', min: 0, max: 90 },
  skip_turns_penalty: { label: '漏问或挑客扣减轮次', unit: '轮', min: 0, max: 10 },
}

const FIELD_LABELS: Record<string, string> = {
  order_mode: '接待顺序',
  return_consumes_turn: '老客户复访占用轮次',
  drop_effects: '离开原因的处理',
  work_start: '上班时间',
  work_end: '下班时间',
  ...Object.fromEntries(Object.entries(NUMBERS).map(([k, v]) => [k, v.label])),
}

export const HOURS_ERROR = '下班时间须晚于上班时间'

function hhmm(value: string): string {
  return value.slice(0, 5)
}

export function isWholeDay(rules: Pick<ReceptionRules, 'work_start' | 'work_end'>): boolean {
  return rules.work_start === DAY_START && rules.work_end === DAY_END
}

export function toForm(rules: ReceptionRules): SettingsForm {
  const wholeDay = isWholeDay(rules)
  return {
    ...rules,
    drop_effects: { ...rules.drop_effects },
    whole_day: wholeDay,
    // Switching "whole day" off starts from common office hours.
    work_start: wholeDay ? '09:00' : hhmm(rules.work_start),
    work_end: wholeDay ? '18:00' : hhmm(rules.work_end),
  }
}

export function toRules(form: SettingsForm): ReceptionRules {
  const { whole_day: wholeDay, work_start: start, work_end: end, ...rest } = form
  return {
    ...rest,
    drop_effects: { ...form.drop_effects },
    work_start: wholeDay ? DAY_START : `${start}:00`,
    work_end: wholeDay ? DAY_END : `${end}:00`,
  }
}

/** The form's own check before saving: office hours must end after they start. */
export function hoursError(form: SettingsForm): string | null {
  if (form.whole_day) return null
  if (!form.work_start || !form.work_end) return '请选择上班和下班时间'
  return form.work_end > form.work_start ? null : HOURS_ERROR
}

/** What the rules page sets by default, shown beside each field. */
export function defaultHint(field: keyof ReceptionRules, defaults: ReceptionRules): string {
  if (field === 'order_mode') return `默认：${ORDER_MODES[defaults.order_mode]}`
  if (field === 'return_consumes_turn') return `默认：${defaults.return_consumes_turn ? '占用' : '不占用'}`
  if (field === 'work_start' || field === 'work_end') {
    return isWholeDay(defaults) ? '默认：全天计入' : `默认：${hhmm(defaults.work_start)}–${hhmm(defaults.work_end)}`
  }
  if (field === 'drop_effects') {
    return '默认：' + (Object.keys(DROP_REASONS) as DropReason[])
      .map((r) => `${DROP_REASONS[r]}${DROP_EFFECTS[defaults.drop_effects[r]]}`).join('，')
  }
  const number = NUMBERS[field]
  return `默认：${defaults[field]} ${number.unit}`
}

export interface FieldError {
  field: string
  type?: string | null
  msg?: string | null
}

/** The server's field errors (problem+json `errors`) as Chinese messages by form field. */
export function fieldErrors(errors: readonly FieldError[] | undefined): Record<string, string> {
  const found: Record<string, string> = {}
  for (const error of errors ?? []) {
    const field = error.field.split('.')[0] ?? ''
    if (!field) {
      found.work_end = HOURS_ERROR // the settings' only check across fields
      continue
    }
    const label = FIELD_LABELS[field] ?? field
    const number = NUMBERS[field as NumberField]
    found[field] = number
      ? `${label}应在 ${number.min}–${number.max} ${number.unit}之间`
      : `${label}的取值不合法`
  }
  return found
}

/** Who changed the settings last, and where: the console or the office's appliance. */
export function changedVia(via: string | null): string {
  if (via === null) return ''
  return via === 'console' ? '总部控制台' : '案场设备'
}
