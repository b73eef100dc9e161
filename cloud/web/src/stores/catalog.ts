import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { catalogApi, type Project, type Site } from '@/api/catalog'

/** Sites and projects within the user's data scope, each loaded once per session. */
export const useCatalogStore = defineStore('catalog', () => {
  const sites = ref<Site[] | null>(null)
  const projects = ref<Project[] | null>(null)
  let sitesLoading: Promise<Site[]> | null = null
  let projectsLoading: Promise<Project[]> | null = null

  const siteNames = computed(() => new Map((sites.value ?? []).map((s) => [s.id, s.name])))
  const projectNames = computed(() => new Map((projects.value ?? []).map((p) => [p.id, p.name])))

  function ensureSites(): Promise<Site[]> {
    if (sites.value) return Promise.resolve(sites.value)
    sitesLoading ??= catalogApi.sites()
      .then((loaded) => (sites.value = loaded))
      .finally(() => (sitesLoading = null))
    return sitesLoading
  }

  function ensureProjects(): Promise<Project[]> {
    if (projects.value) return Promise.resolve(projects.value)
    projectsLoading ??= catalogApi.projects()
      .then((loaded) => (projects.value = loaded))
      .finally(() => (projectsLoading = null))
    return projectsLoading
  }

  function siteName(id: string): string {
    return siteNames.value.get(id) ?? id
  }

  function projectName(id: number): string {
    return projectNames.value.get(id) ?? `项目 #${id}`
  }

  function $reset(): void {
    sites.value = null
    projects.value = null
  }

  return { sites, projects, ensureSites, ensureProjects, siteName, projectName, $reset }
})
