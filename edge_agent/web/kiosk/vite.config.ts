import { VantResolver } from '@vant/auto-import-resolver'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// The edge agent serves dist/ at /kiosk/ and the API at /api/v1 on the same origin.
// `npm run dev` proxies the API to a local agent (ANCHANG_EDGE_URL, default port 8100).
const edge = process.env.ANCHANG_EDGE_URL ?? 'http://127.0.0.1:8100'

export default defineConfig({
  base: '/kiosk/',
  plugins: [
    vue(),
    // Vant on demand (components and their CSS), never a full import.
    Components({ resolvers: [VantResolver()], dts: 'components.d.ts' }),
  ],
  build: {
    manifest: true,
    target: 'es2020',
    chunkSizeWarningLimit: 300,
  },
  server: { proxy: { '/api': edge } },
})
