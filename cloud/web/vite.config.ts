import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// The cloud serves dist/ at /console/ (cloud/main.py); `npm run dev` proxies the API to a
// cloud started locally with `anchang demo` (port 8000 unless ANCHANG_API says otherwise).
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    // Element Plus on demand: each component and its CSS only where a template or
    // script uses it — never the full library or its full stylesheet.
    AutoImport({
      resolvers: [ElementPlusResolver()],
      dts: 'src/types/auto-imports.d.ts',
    }),
    Components({
      resolvers: [ElementPlusResolver()],
      dirs: [],
      dts: 'src/types/components.d.ts',
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: { '/api': process.env.ANCHANG_API ?? 'http://127.0.0.1:8000' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // tests/e2e/test_budgets.py reads .vite/manifest.json to weigh the initial JS.
    manifest: true,
    chunkSizeWarningLimit: 700,
  },
})
