import type { ShareCard } from './api/types'

/**
 * The share card in the page's head: the document title and the Open Graph tags that
 * WeChat's and other apps' link previews read (title, description, square picture).
 */
export function applyShareCard(card: ShareCard): void {
  document.title = card.title
  const tags: Record<string, string> = {
    'og:title': card.title, 'og:description': card.desc, 'og:image': card.image_url,
    description: card.desc,
  }
  for (const [name, content] of Object.entries(tags)) {
    const attribute = name.startsWith('og:') ? 'property' : 'name'
    let tag = document.head.querySelector<HTMLMetaElement>(`meta[${attribute}="${name}"]`)
    if (!tag) {
      tag = document.createElement('meta')
      tag.setAttribute(attribute, name)
      document.head.appendChild(tag)
    }
    tag.content = content
  }
}
