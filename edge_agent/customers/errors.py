"""What the my-customers routes answer when they refuse."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    title = "客户不存在"


class PhoneNotHere(Conflict):
    code = "phone_not_on_appliance"
    title = "本案场设备上没有该客户的号码（客户未在本案场登记到访），请在云端查看"
