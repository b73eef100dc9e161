// What a tap on a chip makes of a row's choice: one value (a radio group, perhaps left
// empty) or several (toggle buttons, kept in the order they were tapped).

/** A row's value: the one chosen, nothing yet ('' or null), or the several chosen. */
export type Chosen<T> = T | '' | null | readonly T[]

export function isOn<T>(chosen: Chosen<T>, value: T): boolean {
  return Array.isArray(chosen) ? chosen.includes(value) : chosen === value
}

/** The row's value after a tap on `value`; `clearable`: a second tap empties a one-choice row. */
export function tapped<T>(chosen: Chosen<T>, value: T, clearable = false): Chosen<T> {
  if (Array.isArray(chosen)) {
    return chosen.includes(value) ? chosen.filter((v) => v !== value) : [...chosen, value]
  }
  return clearable && chosen === value ? '' : value
}

/** Chips for values that are their own labels. */
export function asChoices<T>(values: readonly T[]): { value: T; label: string }[] {
  return values.map((value) => ({ value, label: String(value) }))
}
