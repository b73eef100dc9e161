import type { Directive, DirectiveBinding } from 'vue'

import type { PermissionRequirement } from '@/access/permissions'
import { useSessionStore } from '@/stores/session'

/**
 * `v-perm="Perm.USER_MANAGE"` (or a list, all required) hides a button the user may not
 * use. Hidden rather than removed: Vue keeps patching the element and uses it as an
 * anchor for its siblings, which a node taken out of the DOM would break. Hiding is
 * convenience only — the server refuses the call anyway.
 */
function apply(el: HTMLElement, binding: DirectiveBinding<PermissionRequirement>): void {
  const allowed = useSessionStore().can(binding.value)
  el.hidden = !allowed
  el.toggleAttribute('data-perm-hidden', !allowed)
  el.style.display = allowed ? '' : 'none'
}

export const vPerm: Directive<HTMLElement, PermissionRequirement> = {
  mounted: apply,
  updated: apply,
}

declare module 'vue' {
  interface GlobalDirectives {
    vPerm: typeof vPerm
  }
}
