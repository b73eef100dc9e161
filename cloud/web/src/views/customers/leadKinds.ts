import type { LeadTimelineKind } from '@/api/channelLeads'

/** The Chinese names of the lead timeline's kinds (线索动态). */
export const LEAD_KIND_NAMES: Record<LeadTimelineKind, string> = {
  share_open: '打开分享',
  page_view: '浏览页面',
  lead_created: '留资',
  profile_change: '资料修改',
  referral: '报备',
  visit: '到访',
  follow_up: '跟进',
}

export const LEAD_KIND_TYPES: Record<LeadTimelineKind, 'primary' | 'success' | 'warning' | 'info' | 'danger'> = {
  share_open: 'info',
  page_view: 'info',
  lead_created: 'warning',
  profile_change: 'danger',
  referral: 'primary',
  visit: 'success',
  follow_up: 'success',
}

/** Counts of each kind, for a summary line ("打开分享 2 · 浏览页面 5 …"). */
export function kindCounts(kinds: readonly LeadTimelineKind[]): string {
  const counts = new Map<LeadTimelineKind, number>()
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return [...counts].map(([kind, n]) => `${LEAD_KIND_NAMES[kind]} ${n}`).join(' · ')
}
