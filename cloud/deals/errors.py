"""The deals domain's errors: stable codes, Chinese messages."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed


class DealNotFound(NotFound):
    code = "deal_not_found"
    title = "交易单据不存在或不在您的数据范围内"


class ChangeNotFound(NotFound):
    code = "deal_change_not_found"
    title = "变更申请不存在或不在您的数据范围内"


class CallNotFound(NotFound):
    code = "deal_call_not_found"
    title = "选房排号不存在或不在您的数据范围内"


class CustomerNotFound(NotFound):
    code = "deal_customer_not_found"
    title = "客户不存在、不属于该项目，或不是您的客户"


class UnitTaken(Conflict):
    """The partial unique index refused a second live deal on the unit."""

    code = "deal_unit_taken"
    title = "该房源已被认筹、认购或签约，不能重复成交"


class UnitUnavailable(Conflict):
    code = "deal_unit_unavailable"
    title = "该房源当前状态不可成交（未推盘、销控中或已售），请刷新销控表"


class UnitHeldForPick(Conflict):
    code = "deal_unit_held"
    title = "该房源正在为开盘选房的客户保留，请选择其他房源"


class UnitRequired(ValidationFailed):
    code = "deal_unit_required"
    title = "认购和签约必须指定房源"


class BelowFloorPrice(ValidationFailed):
    code = "deal_below_floor_price"
    title = "成交价低于底价，不能保存"


class DiscountNotAuthorised(Forbidden):
    code = "deal_discount_not_authorised"
    title = "成交价低于表价，超出您的折扣权限，需由有权限的销售经理或销售总监审批"


class OwnApproval(Forbidden):
    code = "deal_own_approval"
    title = "不能审批自己提交的单据或变更"


class NoteRequired(ValidationFailed):
    code = "deal_note_required"
    title = "请填写原因"


class ChangeInvalid(ValidationFailed):
    code = "deal_change_invalid"
    title = "变更内容不完整或与单据不符"


class ChangeNotPending(Conflict):
    code = "deal_change_not_pending"
    title = "该变更申请已处理"


class NotConvertible(Conflict):
    code = "deal_not_convertible"
    title = "签约单据不能再转换"


class CallRefused(Conflict):
    code = "deal_call_refused"
    title = "排号当前状态不允许此操作"


class QueueEmpty(Conflict):
    code = "deal_queue_empty"
    title = "没有等待叫号的认筹"


class PaymentRefused(ValidationFailed):
    code = "deal_payment_refused"
    title = "贷款只能在银行放款后、以银行放款登记为已收"


class CoBuyerInvalid(ValidationFailed):
    code = "deal_co_buyer_invalid"
    title = "共同购买人信息不正确"


class CoBuyersLocked(Conflict):
    code = "deal_co_buyers_locked"
    title = "单据提交后不能直接修改共同购买人，请通过变更办理"


class IdNumberInvalid(ValidationFailed):
    code = "deal_id_number_invalid"
    title = "证件号码格式不正确"


class IdCheckRefused(Conflict):
    code = "deal_id_check_refused"
    title = "已结束的单据不能登记证件核验"


class SigningLocationMisplaced(ValidationFailed):
    code = "deal_signing_location_misplaced"
    title = "只有认购转签约时才能填写签约地点"


class SigningPlaceInvalid(ValidationFailed):
    code = "deal_signing_place_invalid"
    title = "签约地点填写不一致：手机定位须带坐标，在案场签约不填坐标"
