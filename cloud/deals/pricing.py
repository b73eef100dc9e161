"""Floor price and discount authority (底价与折扣权限).

Below the floor price (底价) a document is refused when saved, whoever saves it. Between
the floor and the list price (表价) it is a discount, which the approver's role must
cover. A consultant has none; the sales manager's and the sales director's are
per-project settings (cloud.deals.models.DealSetting), in percent of the way from the
list price to the floor price, by default down to the floor.
"""

from __future__ import annotations

from decimal import Decimal

from cloud.deals.errors import BelowFloorPrice, DiscountNotAuthorised
from cloud.deals.models import DealSetting

# The setting that holds each role's authority; roles not named have none.
AUTHORITY_SETTING: dict[str, str] = {"sales_manager": "manager_discount_pct",
                                     "sales_director": "director_discount_pct"}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, for messages (never through float)."""
    return f"{Decimal(fen) / 100:,.2f}"


def check_floor(price_fen: int, floor_price_fen: int) -> None:
    if price_fen < floor_price_fen:
        raise BelowFloorPrice(f"成交价 {yuan(price_fen)} 元低于底价，不能保存")


def authority_pct(roles: frozenset[str] | set[str], setting: DealSetting) -> int:
    """The widest discount authority among `roles` in the project, in percent."""
    return max((int(getattr(setting, AUTHORITY_SETTING[r])) for r in roles
                if r in AUTHORITY_SETTING), default=0)


def lowest_approvable(roles: frozenset[str] | set[str], setting: DealSetting,
                      list_price_fen: int, floor_price_fen: int) -> int:
    """The lowest price in fen that someone holding `roles` may approve (never below
    the floor, rounded towards the list price)."""
    reach = Decimal(list_price_fen - floor_price_fen) * authority_pct(roles, setting) / 100
    return list_price_fen - int(reach)


def check_authority(roles: frozenset[str] | set[str], setting: DealSetting, price_fen: int,
                    list_price_fen: int, floor_price_fen: int) -> None:
    check_floor(price_fen, floor_price_fen)
    if price_fen < lowest_approvable(roles, setting, list_price_fen, floor_price_fen):
        raise DiscountNotAuthorised(
            f"成交价 {yuan(price_fen)} 元超出您的折扣权限，最低可批 "
            f"{yuan(lowest_approvable(roles, setting, list_price_fen, floor_price_fen))} 元")
