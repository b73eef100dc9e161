// One walk-in's registration form: live phone check and customer look-up, the receiving
// consultant (head of the queue unless chosen), and a submit that is safe to repeat —
// the Idempotency-Key belongs to the form, so a double tap or a retry after a timeout
// returns the same visit instead of making a second one.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'

import { kioskApi } from '../api/kiosk'
import { ApiError, errorMessage } from '../api/http'
import type {
  CustomerLookupOut,
  GuideCandidateOut,
  QrCodeOut,
  RegistrationOut,
  VisitIn,
  VisitSource,
} from '../api/types'
import { newIdempotencyKey } from '../lib/idempotency'
import { checkPhone, type PhoneCheck } from '../lib/phone'
import { emptyProfileForm, profileOf } from '../lib/reception'
import { useConsentStore } from './consent'

/** Problem codes of the edge meaning the visitor's consent must be given (again). */
export const CONSENT_CODES: readonly string[] = ['consent_required', 'consent_notice_unknown']

export const INTENT_OPTIONS = ['两房', '三房', '四房及以上', '自住', '改善', '投资', '学区', '商铺'] as const
export const SOURCE_OPTIONS: { value: VisitSource; label: string }[] = [
  { value: 'natural', label: '自然来访' },
  { value: 'channel', label: '渠道带访' },
  { value: 'referral_old_customer', label: '老带新' },
  { value: 'online', label: '线上预约' },
  { value: 'other', label: '其他' },
]
const MAX_INTENT = 200
/** VisitIn.name on the edge (and VisitRegistered.name): the field shows n/50 as it fills. */
export const NAME_MAX = 50

function emptyForm() {
  return {
    phone: '',
    name: '',
    partySize: 1,
    intents: [] as string[],
    intentNote: '',
    source: 'natural' as VisitSource,
    consultantId: null as number | null,
    profile: emptyProfileForm(),
    forgotConsultant: false,
  }
}

export const useRegistrationStore = defineStore('registration', () => {
  const form = reactive(emptyForm())
  const phoneBlurred = ref(false)
  /** The receptionist picked a consultant by hand: stop following the queue. */
  const consultantChosen = ref(false)
  const idempotencyKey = ref(newIdempotencyKey())
  const keyPhone = ref<string | null>(null)
  const lookup = ref<CustomerLookupOut | null>(null)
  const lookupState = ref<'idle' | 'loading' | 'done' | 'failed'>('idle')
  const submitting = ref(false)
  const result = ref<RegistrationOut | null>(null)
  /** A broker's 扫码带看 code, as scanned or pasted, and what the appliance said of it. */
  const qrCode = ref('')
  const qrChecked = ref<QrCodeOut | null>(null)
  const qrError = ref<{ code: string; message: string } | null>(null)
  const qrChecking = ref(false)
  /** 无码带看: the brokers found for the number, and the one the receptionist picked. */
  const guides = ref<GuideCandidateOut[] | null>(null)
  const guidesLoading = ref(false)
  const guidesError = ref<string | null>(null)
  const guide = ref<GuideCandidateOut | null>(null)
  let lookupAbort: AbortController | null = null

  const phoneCheck = computed<PhoneCheck>(() => checkPhone(form.phone, phoneBlurred.value))
  const validPhone = computed(() =>
    phoneCheck.value.state === 'valid' ? phoneCheck.value.phone : null,
  )
  const intent = computed(() => {
    const text = [...form.intents, form.intentNote.trim()].filter(Boolean).join('、')
    return text.slice(0, MAX_INTENT)
  })
  const canSubmit = computed(() => validPhone.value !== null && !submitting.value)

  async function lookUp(phone: string, projectId: number | undefined): Promise<void> {
    lookupAbort?.abort()
    const abort = new AbortController()
    lookupAbort = abort
    lookupState.value = 'loading'
    try {
      const found = await kioskApi.lookupCustomer(phone, projectId, abort.signal)
      if (abort.signal.aborted) return
      lookup.value = found
      lookupState.value = 'done'
    } catch {
      if (abort.signal.aborted) return
      lookup.value = null
      lookupState.value = 'failed'
    }
  }

  function clearLookup(): void {
    lookupAbort?.abort()
    lookupAbort = null
    lookup.value = null
    lookupState.value = 'idle'
  }

  function chooseConsultant(id: number | null): void {
    form.consultantId = id
    consultantChosen.value = true
  }

  /** Follow the queue (or the returning customer's owner) until chosen by hand. */
  function suggestConsultant(id: number | null): void {
    if (!consultantChosen.value) form.consultantId = id
  }

  async function checkQr(code: string, projectId: number | undefined): Promise<boolean> {
    qrCode.value = code.trim()
    qrChecked.value = null
    qrError.value = null
    if (!qrCode.value) return false
    qrChecking.value = true
    try {
      qrChecked.value = await kioskApi.verifyQr(qrCode.value, projectId)
      form.source = 'channel'
      return true
    } catch (error) {
      qrError.value = {
        code: error instanceof ApiError ? error.code : 'network',
        message: errorMessage(error),
      }
      return false
    } finally {
      qrChecking.value = false
    }
  }

  async function findGuides(projectId: number | undefined): Promise<void> {
    const phone = validPhone.value
    guide.value = null
    guidesError.value = null
    if (phone === null) {
      guides.value = null
      guidesError.value = '请先输入正确的客户手机号'
      return
    }
    guidesLoading.value = true
    try {
      guides.value = await kioskApi.guideCandidates(phone, projectId)
    } catch (error) {
      guides.value = null
      guidesError.value = errorMessage(error)
    } finally {
      guidesLoading.value = false
    }
  }

  function pickGuide(candidate: GuideCandidateOut | null): void {
    guide.value = candidate
    if (candidate) form.source = 'channel'
  }

  function clearGuides(): void {
    guides.value = null
    guide.value = null
    guidesError.value = null
  }

  function clearQr(): void {
    qrCode.value = ''
    qrChecked.value = null
    qrError.value = null
  }

  async function submit(projectId: number | undefined): Promise<RegistrationOut> {
    const phone = validPhone.value
    if (phone === null) throw new Error('手机号码不正确')
    if (keyPhone.value !== null && keyPhone.value !== phone) {
      idempotencyKey.value = newIdempotencyKey() // a different customer: a new registration
    }
    keyPhone.value = phone
    // The notice promises the visitor their consent is recorded with the visit: it goes
    // with the registration, and without a valid one there is nothing to send.
    const consent = useConsentStore()
    if (!consent.record || !consent.isValid()) throw new Error('访客尚未同意告知，请先请访客阅读并同意')
    const body: VisitIn = {
      project_id: projectId,
      phone: form.phone.trim(),
      name: form.name.trim() || null,
      party_size: form.partySize,
      intent: intent.value || null,
      source: form.source,
      consultant_id: form.consultantId,
      consent: { notice_version: consent.record.version, accepted_at: consent.record.acceptedAt },
      qr_code: qrChecked.value ? qrCode.value : null,
      // A signed code is the stronger evidence: a hand pick goes only without one.
      guide_referral_id: !qrChecked.value && guide.value ? guide.value.referral_id : null,
      profile: profileOf(form.profile),
      forgot_consultant: form.forgotConsultant,
    }
    submitting.value = true
    try {
      result.value = await kioskApi.registerVisit(body, idempotencyKey.value)
      return result.value
    } finally {
      submitting.value = false
    }
  }

  function reset(): void {
    Object.assign(form, emptyForm())
    phoneBlurred.value = false
    consultantChosen.value = false
    idempotencyKey.value = newIdempotencyKey()
    keyPhone.value = null
    clearLookup()
    clearQr()
    clearGuides()
    result.value = null
  }

  return {
    form, phoneBlurred, consultantChosen, idempotencyKey, lookup, lookupState, submitting,
    result, phoneCheck, validPhone, intent, canSubmit, qrCode, qrChecked, qrError, qrChecking,
    guides, guidesLoading, guidesError, guide,
    lookUp, clearLookup, chooseConsultant, suggestConsultant, checkQr, clearQr, submit, reset,
    findGuides, pickGuide, clearGuides,
  }
})
