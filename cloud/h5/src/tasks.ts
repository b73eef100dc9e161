/** A completion rate (0–1, above 1 when exceeded) as a whole percentage. */
export const percent = (rate: number): number => Math.round(rate * 100)
