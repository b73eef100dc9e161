"""Payment methods (付款方式): the codes a deal document records in the cloud and the
consultant's phone filters customers by on the appliance — one list for both ends."""

from __future__ import annotations

from typing import Literal, get_args

PaymentMethod = Literal["full", "commercial_loan", "provident_loan", "combined_loan",
                        "installment"]

PAYMENT_METHODS: dict[str, str] = {
    "full": "一次性付款", "commercial_loan": "商业按揭", "provident_loan": "公积金贷款",
    "combined_loan": "组合贷款", "installment": "分期付款",
}
assert set(PAYMENT_METHODS) == set(get_args(PaymentMethod))

# Paid by a bank's disbursement.
LOANS = frozenset({"commercial_loan", "provident_loan", "combined_loan"})
