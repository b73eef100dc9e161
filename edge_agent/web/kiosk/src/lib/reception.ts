// Reception vocabularies and small rules the kiosk screens share: away reasons (补接 or
// to the tail / off the day), the visit profile's choices and how a form becomes the
// profile the agent accepts.
import type {
  AwayReason,
  Awareness,
  Gender,
  Grade,
  OrderMode,
  Purpose,
  RotaConsultantOut,
  VisitProfile,
} from '../api/types'

export interface Choice<T extends string> {
  value: T
  label: string
}

/** 补接: away for these, the consultant keeps the head of the queue. */
export const MAKE_UP_REASONS: Choice<AwayReason>[] = [
  { value: 'receiving', label: '接待客户中' },
  { value: 'washroom', label: '洗手间' },
  { value: 'lunch', label: '午餐' },
  { value: 'business', label: '外出办事' },
  { value: 'manager_approved', label: '经理批准离开' },
]

/** To the tail, or off today's queue (the project's setting). */
export const DROP_REASONS: Choice<AwayReason>[] = [
  { value: 'rest', label: '休息' },
  { value: 'private', label: '私事' },
  { value: 'leave', label: '请假' },
]

const AWAY_LABELS = new Map([...MAKE_UP_REASONS, ...DROP_REASONS].map((c) => [c.value, c.label]))

export function awayLabel(reason: AwayReason | null): string {
  return reason ? (AWAY_LABELS.get(reason) ?? reason) : ''
}

export function keepsPlace(reason: AwayReason): boolean {
  return MAKE_UP_REASONS.some((c) => c.value === reason)
}

export const ORDER_MODES: Record<OrderMode, string> = {
  check_in: '按上岗先后排序，接待后轮到队尾',
  fewest_new: '按今日接待新客少者优先',
}

/** The status line of a consultant on the board. */
export function dutyStatus(c: RotaConsultantOut): string[] {
  const tags: string[] = []
  if (c.away_reason) {
    tags.push(`${awayLabel(c.away_reason)}${keepsPlace(c.away_reason) ? '（补接）' : ''}`)
  }
  if (c.skip_turns > 0) tags.push(`处罚：失去 ${c.skip_turns} 次轮次`)
  if (c.suspended_until) tags.push(`暂停接待至 ${c.suspended_until}`)
  return tags
}

export const GENDERS: Choice<Gender>[] = [
  { value: 'male', label: '男' },
  { value: 'female', label: '女' },
]

export const AWARENESS: Choice<Awareness>[] = [
  { value: 'passing_by', label: '路过' },
  { value: 'outdoor_ad', label: '户外广告' },
  { value: 'online', label: '网络' },
  { value: 'friend', label: '朋友介绍' },
  { value: 'old_customer', label: '老业主推荐' },
  { value: 'channel', label: '中介/渠道' },
  { value: 'call', label: '电话' },
  { value: 'event', label: '活动' },
  { value: 'other', label: '其他' },
]

export const PURPOSES: Choice<Purpose>[] = [
  { value: 'own_use', label: '自住' },
  { value: 'investment', label: '投资' },
]

export const GRADES: Grade[] = ['A', 'B', 'C', 'D']

/** The form as typed: numbers arrive as text from the inputs. */
export interface ProfileForm {
  gender: Gender | ''
  awareness: Awareness | ''
  layout: string
  areaMin: string
  areaMax: string
  budgetMin: string
  budgetMax: string
  purpose: Purpose | ''
  grade: Grade | ''
}

export function emptyProfileForm(): ProfileForm {
  return {
    gender: '', awareness: '', layout: '', areaMin: '', areaMax: '', budgetMin: '',
    budgetMax: '', purpose: '', grade: '',
  }
}

const LIMIT = 100_000

function whole(text: string, label: string): number | undefined {
  const t = text.trim()
  if (!t) return undefined
  if (!/^\d+$/.test(t) || Number(t) > LIMIT) throw new Error(`${label}请填写 0–${LIMIT} 的整数`)
  return Number(t)
}

/**
 * The profile to send, leaving out what was not filled; throws with a Chinese message
 * for a number that is not whole or a range whose minimum exceeds its maximum.
 */
export function profileOf(form: ProfileForm): VisitProfile {
  const out: VisitProfile = {}
  if (form.gender) out.gender = form.gender
  if (form.awareness) out.awareness = form.awareness
  if (form.layout.trim()) out.layout = form.layout.trim().slice(0, 30)
  if (form.purpose) out.purpose = form.purpose
  if (form.grade) out.grade = form.grade
  const ranges: [keyof VisitProfile, keyof VisitProfile, string, string, string][] = [
    ['area_min', 'area_max', form.areaMin, form.areaMax, '面积'],
    ['budget_min', 'budget_max', form.budgetMin, form.budgetMax, '预算'],
  ]
  for (const [lowKey, highKey, lowText, highText, label] of ranges) {
    const low = whole(lowText, label)
    const high = whole(highText, label)
    if (low !== undefined && high !== undefined && low > high) {
      throw new Error(`${label}下限不能大于上限`)
    }
    if (low !== undefined) (out as Record<string, number>)[lowKey] = low
    if (high !== undefined) (out as Record<string, number>)[highKey] = high
  }
  return out
}
