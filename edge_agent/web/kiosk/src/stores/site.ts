// What this office is: its projects and staff roster (from the cloud's down-feed).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { kioskApi } from '../api/kiosk'
import type { ConsultantOut, ProjectOut } from '../api/types'

export const useSiteStore = defineStore('site', () => {
  const projects = ref<ProjectOut[]>([])
  const consultants = ref<ConsultantOut[]>([])
  const selectedProjectId = ref<number | null>(null)
  const loaded = ref(false)

  const project = computed<ProjectOut | null>(() =>
    projects.value.find((p) => p.id === selectedProjectId.value) ?? null,
  )

  function consultantName(id: number | null | undefined): string | null {
    if (id === null || id === undefined) return null
    return consultants.value.find((c) => c.id === id)?.name ?? null
  }

  async function load(): Promise<void> {
    const [foundProjects, roster] = await Promise.all([kioskApi.projects(), kioskApi.consultants()])
    projects.value = foundProjects
    consultants.value = roster
    const still = foundProjects.some((p) => p.id === selectedProjectId.value)
    if (!still) {
      selectedProjectId.value =
        (foundProjects.find((p) => p.is_default) ?? foundProjects[0])?.id ?? null
    }
    loaded.value = true
  }

  function selectProject(id: number): void {
    selectedProjectId.value = id
  }

  return { projects, consultants, selectedProjectId, project, loaded, consultantName, load, selectProject }
})
