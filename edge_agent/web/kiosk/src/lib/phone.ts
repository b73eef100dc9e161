// Mainland mobile numbers, the same rule as shared/phone.py on the server:
// +86 / 0086 / 86 prefixes, spaces, dashes, dots, brackets and full-width digits accepted.

const SEPARATORS = /[\s\-()（）.]/g
const MOBILE = /^1[3-9]\d{9}$/
const FULLWIDTH: Record<string, string> = { '＋': '+', '－': '-' }

export const PHONE_INVALID = '手机号码格式不正确，请输入11位中国大陆手机号'

function toHalfWidth(text: string): string {
  return text.replace(/[０-９＋－]/g, (ch) =>
    FULLWIDTH[ch] ?? String.fromCharCode(ch.charCodeAt(0) - 0xfee0),
  )
}

/** The 11-digit number, or null when `raw` is not a mainland mobile number. */
export function normalisePhone(raw: string): string | null {
  if (raw.length > 40) return null
  let text = toHalfWidth(raw.trim()).replace(SEPARATORS, '')
  if (text.startsWith('+86')) text = text.slice(3)
  else if (text.startsWith('0086')) text = text.slice(4)
  else if (text.startsWith('86') && text.length === 13) text = text.slice(2)
  return MOBILE.test(text) ? text : null
}

export type PhoneCheck =
  | { state: 'empty' }
  | { state: 'typing'; remaining: number }
  | { state: 'invalid'; message: string }
  | { state: 'valid'; phone: string }

const PREFIXES = ['+86', '0086', '86']

/** Live feedback while typing: quiet until the number is complete or clearly wrong. */
export function checkPhone(raw: string, finished = false): PhoneCheck {
  if (!raw.trim()) return { state: 'empty' }
  const phone = normalisePhone(raw)
  if (phone) return { state: 'valid', phone }
  const invalid: PhoneCheck = { state: 'invalid', message: PHONE_INVALID }
  const text = toHalfWidth(raw.trim()).replace(SEPARATORS, '')
  if (!/^\+?\d*$/.test(text)) return invalid
  // Still typing a country prefix (+, +8, 0, 00, 008, 8 …)?
  if (!finished && PREFIXES.some((p) => p.startsWith(text) && p !== text)) {
    return { state: 'typing', remaining: 11 }
  }
  const prefix = PREFIXES.find((p) => text.startsWith(p) && !(p === '86' && text.startsWith('1')))
  const digits = prefix ? text.slice(prefix.length) : text
  if (digits.length >= 11 || !/^(1([3-9]\d*)?)?$/.test(digits) || finished) return invalid
  return { state: 'typing', remaining: 11 - digits.length }
}

/**
 * Group a bare mobile number 3-4-4 while it is typed ("138 1234 5678"), so all 11 digits
 * read at a glance. Anything else (a +86 prefix, full-width digits, letters, too many
 * digits) is left as typed: `checkPhone` judges the text either way, spaces included.
 */
export function groupPhone(raw: string): string {
  if (!/^[\d\s-]*$/.test(raw)) return raw
  const digits = raw.replace(/\D/g, '')
  if (!digits.startsWith('1') || digits.length > 11) return raw
  return [digits.slice(0, 3), digits.slice(3, 7), digits.slice(7)].filter(Boolean).join(' ')
}

/** 138****5678 */
export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`
}
