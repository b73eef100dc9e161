import { fileURLToPath, URL } from 'node:url'

import { defineConfig } from 'vitest/config'

// Unit tests cover plain TypeScript (request layer, permission logic, statistics):
// no browser, no Element Plus.
export default defineConfig({
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  test: {
    environment: 'node',
    include: ['src/**/__tests__/*.spec.ts'],
  },
})
