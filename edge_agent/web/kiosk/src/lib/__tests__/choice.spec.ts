import { describe, expect, it } from 'vitest'

import { asChoices, isOn, tapped } from '../choice'

describe('one choice', () => {
  it('takes the tapped value, replacing the one before', () => {
    expect(tapped<string>('natural', 'channel')).toBe('channel')
    expect(tapped<string>('', 'male')).toBe('male')
    expect(tapped<number>(null, 3)).toBe(3)
  })

  it('keeps the value on a second tap unless the row is clearable', () => {
    expect(tapped<string>('natural', 'natural')).toBe('natural')
    expect(tapped<string>('male', 'male', true)).toBe('')
    expect(tapped<string>('male', 'female', true)).toBe('female')
  })

  it('is on only for its own value', () => {
    expect(isOn<string>('A', 'A')).toBe(true)
    expect(isOn<string>('A', 'B')).toBe(false)
    expect(isOn<string>('', 'A')).toBe(false)
  })
})

describe('several choices', () => {
  it('toggles the tapped value and keeps the others in tapping order', () => {
    const chosen = ['三房', '改善']
    expect(tapped(chosen, '学区')).toEqual(['三房', '改善', '学区'])
    expect(tapped(chosen, '三房')).toEqual(['改善'])
    expect(chosen).toEqual(['三房', '改善']) // a new list: the bound one changes by assignment
  })

  it('ignores clearable', () => {
    expect(tapped(['A'], 'A', true)).toEqual([])
  })

  it('is on for each chosen value', () => {
    expect(isOn(['三房', '改善'], '改善')).toBe(true)
    expect(isOn(['三房'], '改善')).toBe(false)
  })
})

describe('asChoices', () => {
  it('labels each value with itself, in order', () => {
    expect(asChoices(['A', 'B'])).toEqual([{ value: 'A', label: 'A' }, { value: 'B', label: 'B' }])
  })
})
