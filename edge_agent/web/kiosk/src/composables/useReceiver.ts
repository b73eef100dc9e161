// Who receives the walk-in being registered. Only rota members (active consultants)
// receive: a returning customer goes to their owner when the owner is on the rota; an
// owner off the rota (e.g. a sales manager) keeps the customer while the head of the queue
// receives on their behalf, as do new customers. A choice by hand always wins.
import { computed, watch } from 'vue'

import { useRegistrationStore } from '../stores/registration'
import { useRotaStore } from '../stores/rota'
import { useSiteStore } from '../stores/site'

export function useReceiver() {
  const registration = useRegistrationStore()
  const rota = useRotaStore()
  const site = useSiteStore()

  const ownerId = computed(() => {
    const found = registration.lookup
    return found?.classification === 'return_visit' ? found.owner_id : null
  })
  const ownerOnRota = computed(
    () => ownerId.value !== null && site.consultants.some((c) => c.id === ownerId.value),
  )
  const ownerReceives = computed(
    () => ownerOnRota.value && registration.form.consultantId === ownerId.value,
  )
  const offRotaOwner = computed(() =>
    ownerId.value !== null && !ownerOnRota.value ? registration.lookup?.owner_name ?? null : null,
  )
  const selectedName = computed(() => {
    const id = registration.form.consultantId
    if (id === null) return null
    return rota.consultants.find((c) => c.id === id)?.name ?? site.consultantName(id)
  })

  watch(
    [() => rota.next?.id ?? null, ownerId, ownerOnRota],
    ([nextId, owner, onRota]) => registration.suggestConsultant(onRota ? owner : nextId),
    { immediate: true },
  )

  return { ownerId, ownerReceives, offRotaOwner, selectedName }
}
