// 案场顾问 — the consultant PWA. Served by the edge agent at /pwa/ (edge_agent/main.py).
import { VantResolver } from '@vant/auto-import-resolver'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const BASE = '/pwa/'

export default defineConfig({
  base: BASE,
  plugins: [
    vue(),
    // Vant components on demand, each with its own CSS; never the whole library.
    Components({ resolvers: [VantResolver()], dts: 'src/components.d.ts' }),
    VitePWA({
      registerType: 'prompt', // a new version waits until the consultant taps 更新
      injectRegister: false, // registered in src/pwa.ts through virtual:pwa-register/vue
      strategies: 'generateSW',
      manifest: {
        id: BASE,
        name: '案场顾问',
        short_name: '案场顾问',
        description: '置业顾问的手机助手：今日来访、写跟进，断网也能记录',
        lang: 'zh-CN',
        start_url: BASE,
        scope: BASE,
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#1f6feb',
        background_color: '#f7f8fa',
        icons: [
          { src: 'pwa-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'pwa-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // Every page of the app opens offline from the cache; the API never does.
        navigateFallback: `${BASE}index.html`,
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        // The first install takes over the open page at once, so the lazily loaded pages
        // come from the cache even if the network drops before the next launch. Updates
        // still wait for 更新 (no skipWaiting).
        clientsClaim: true,
      },
    }),
  ],
  build: {
    manifest: true, // tests/e2e/test_budgets.py measures the initial JavaScript from it
    target: 'es2020',
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      output: {
        // The framework in one long-cached chunk; Vant stays split per page.
        codeSplitting: {
          groups: [{ name: 'vendor', test: /node_modules[\/](@vue|vue|vue-router|pinia|dexie)[\/]/ }],
        },
      },
    },
  },
})
