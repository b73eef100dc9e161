/**
 * Element Plus types a table slot's row as Record<PropertyKey, any>. `rowOf<Visit>()`
 * names the row type once per table, so cell templates stay type-checked:
 * `<template #default="scope">{{ visitOf(scope).phone_masked }}</template>`.
 */
export function rowOf<T>(): (scope: { row: unknown }) => T {
  return (scope) => scope.row as T
}
