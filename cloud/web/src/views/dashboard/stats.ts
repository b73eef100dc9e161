import type { Visit } from '@/api/sales'

export interface DailyVisits {
  date: string
  first: number
  returning: number
}

/** Visits per Beijing calendar day (the visit's own `visit_date`) over `days`, oldest first. */
export function visitsPerDay(visits: readonly Pick<Visit, 'visit_date' | 'is_first_visit'>[],
  days: readonly string[]): DailyVisits[] {
  const byDay = new Map(days.map((d) => [d, { date: d, first: 0, returning: 0 }]))
  for (const visit of visits) {
    const day = byDay.get(visit.visit_date)
    if (!day) continue
    if (visit.is_first_visit) day.first += 1
    else day.returning += 1
  }
  return days.map((d) => byDay.get(d) ?? { date: d, first: 0, returning: 0 })
}
