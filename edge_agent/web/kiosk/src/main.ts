import '@vant/touch-emulator' // mouse events as touch events on a desktop-browser kiosk
import './styles/theme.css'

import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { configureHttp } from './api/http'
import { router } from './router'
import { useDeviceStore } from './stores/device'
import { useLinkStore } from './stores/link'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)

const device = useDeviceStore(pinia)
const link = useLinkStore(pinia)
configureHttp({
  token: () => device.token,
  onReachability: (reachable) => link.setReachable(reachable),
  onUnauthorized: (error) => {
    if (error.code !== 'kiosk_token_invalid') return
    device.reject(error.message)
    if (router.currentRoute.value.name !== 'setup') void router.replace({ name: 'setup' })
  },
})

app.use(router)
app.mount('#app')
