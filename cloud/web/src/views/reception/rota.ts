import type { RotaAction, RotaEvent } from '@/api/reception'

export const ROTA_ACTION_NAMES: Record<RotaAction, string> = {
  check_in: '上岗',
  check_out: '下岗',
  turn_consumed: '接待（计轮次）',
  turn_not_counted: '非工作时间接待（不计轮次）',
  away: '离开',
  back: '回岗',
  penalty: '处罚',
  turn_skipped: '失去轮次',
  suspended: '暂停接待',
  stand_in: '义务接待通知',
  claimed: '认领客户',
  settings_changed: '修改接待设置',
}

export type ActionTone = 'success' | 'warning' | 'danger' | 'info' | 'primary'

export function actionTone(action: RotaAction): ActionTone {
  if (action === 'check_in' || action === 'back' || action === 'claimed') return 'success'
  if (action === 'penalty' || action === 'suspended' || action === 'turn_skipped') return 'danger'
  if (action === 'away' || action === 'check_out') return 'warning'
  return action === 'turn_consumed' ? 'primary' : 'info'
}

/** Who made the change, in words: the kiosk tablet, a registration, or a manager. */
export function actorLabel(actor: string, names: Map<number, string>): string {
  if (actor === 'kiosk:visit') return '来访登记'
  if (actor.startsWith('kiosk')) return `前台平板${actor.includes(':') ? `（${actor.slice(6)}）` : ''}`
  const user = /^user:(\d+)$/.exec(actor)
  if (user) return names.get(Number(user[1])) ?? `用户 #${user[1]}`
  return actor
}

/** "第 2 位 → 第 3 位", "→ 第 1 位", "第 2 位 → 离开队列", or '' when neither is known. */
export function positionChange(e: Pick<RotaEvent, 'position_before' | 'position_after'>): string {
  const before = e.position_before === null ? '' : `第 ${e.position_before} 位`
  const after = e.position_after === null ? (before ? '离开队列' : '') : `第 ${e.position_after} 位`
  if (!before) return after ? `→ ${after}` : ''
  return `${before} → ${after}`
}
