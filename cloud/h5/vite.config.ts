import { VantResolver } from '@vant/auto-import-resolver'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// 经纪人 H5. The cloud serves dist/ at /h5/ and the API at /api/v1 on the same origin
// (cloud/main.py). `npm run dev` proxies the API to a local cloud (ANCHANG_CLOUD_URL).
const cloud = process.env.ANCHANG_CLOUD_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/h5/',
  plugins: [
    vue(),
    // Vant on demand (components and their CSS), never a full import.
    Components({ resolvers: [VantResolver()], dts: 'components.d.ts' }),
  ],
  build: {
    manifest: true, // tests/e2e/test_budgets.py measures the initial JavaScript from it
    target: 'es2020',
    chunkSizeWarningLimit: 300,
    rolldownOptions: {
      output: {
        // The framework in one long-cached chunk; Vant and the QR encoder stay per page.
        codeSplitting: {
          groups: [{ name: 'vendor', test: /node_modules[\/](@vue|vue|vue-router)[\/]/ }],
        },
      },
    },
  },
  server: { proxy: { '/api': cloud } },
})
