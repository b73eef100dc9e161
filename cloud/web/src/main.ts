import { createPinia } from 'pinia'
import { createApp } from 'vue'

import { setAuthLostHandler } from '@/api/client'
import { isApiError } from '@/api/http'
import { vPerm } from '@/directives/permission'
import { router } from '@/router'
import { resetAllStores, resetPlugin } from '@/stores/reset'
import '@/utils/time' // dayjs: zh-cn locale and the Asia/Shanghai zone, once

import App from './App.vue'
import './styles/base.css'

const app = createApp(App)
const pinia = createPinia()
pinia.use(resetPlugin)
app.use(pinia)
app.use(router)
app.directive('perm', vPerm)

setAuthLostHandler((error) => {
  resetAllStores()
  ElMessage({ type: 'warning', message: error.detail, grouping: true, showClose: true })
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    void router.replace({ name: 'login', query: { redirect: current.fullPath } })
  }
})

// Request errors were shown to the user by the request layer; anything else is a bug.
app.config.errorHandler = (error) => {
  if (isApiError(error) && error.notified) return
  console.error(error)
}

app.mount('#app')
