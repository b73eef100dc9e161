import { defineConfig } from 'vitest/config'

// Unit tests of plain TypeScript (no browser, no Vant); the pages are tested in Chromium
// from tests/e2e.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/__tests__/*.spec.ts'],
  },
})
