/** A page of a cursor-paginated list: pass `next_cursor` back as `cursor` for the next. */
export interface CursorPage<T> {
  items: T[]
  next_cursor: string | null
}

/** Date-times arrive as ISO 8601 strings in UTC; dates as YYYY-MM-DD. */
export type IsoDateTime = string
export type IsoDate = string
