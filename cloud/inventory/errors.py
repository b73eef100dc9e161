"""The inventory's errors: stable codes, Chinese messages."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed


class ProjectNotFound(NotFound):
    code = "project_not_found"
    title = "项目不存在或不在您的数据范围内"


class UnitNotFound(NotFound):
    code = "unit_not_found"
    title = "房源不存在或不在您的数据范围内"


class HoldNotFound(NotFound):
    code = "hold_not_found"
    title = "预留申请不存在或不在您的数据范围内"


class TransitionRefused(Conflict):
    """The table has no such move from the unit's state."""

    code = "unit_transition_refused"
    title = "房源当前状态不允许此操作"


class TransitionByDeal(Forbidden):
    code = "unit_transition_by_deal"
    title = "认筹、认购、签约、交付和退房由交易流程办理，不能在销控中直接修改"


class TransitionNotPermitted(Forbidden):
    code = "unit_transition_forbidden"
    title = "您没有权限对房源执行此操作"


class StateChanged(Conflict):
    """Someone else moved the unit between reading and writing it."""

    code = "unit_state_changed"
    title = "房源状态已被他人更改，请刷新销控表后重试"


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    title = "请填写原因"


class HoldTooLong(ValidationFailed):
    code = "hold_too_long"
    title = "预留天数超过本项目允许的上限"


class HoldNotPending(Conflict):
    code = "hold_not_pending"
    title = "该预留申请已处理"


class HoldPending(Conflict):
    code = "hold_already_pending"
    title = "该房源已有待审批的预留申请"


class CustomerNotInProject(ValidationFailed):
    code = "customer_not_in_project"
    title = "客户不属于该项目"


class BatchUnitsInvalid(ValidationFailed):
    code = "batch_units_invalid"
    title = "推盘的房源必须属于本项目且处于未推盘状态"


class BatchNameTaken(Conflict):
    code = "batch_name_taken"
    title = "本项目已有同名的推盘批次"


class ImportRejected(ValidationFailed):
    """The file has row errors: nothing was imported; `errors` lists them."""

    code = "import_rejected"
    title = "导入文件有错误，未导入任何房源，请按行修改后重新上传"


class ImportUnreadable(ValidationFailed):
    code = "import_unreadable"
    title = "无法读取文件，请上传 Excel 2007 及以上版本的 .xlsx 文件"


class ImportTooLarge(ValidationFailed):
    status = 413
    code = "import_too_large"
    title = "文件过大"


class PledgeUnreleasedRefused(Conflict):
    code = "pledge_unreleased_refused"
    title = "本项目不允许对未推盘房源认筹"
