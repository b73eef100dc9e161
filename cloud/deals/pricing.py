"""Floor price and discount authority (底价与折扣权限).

Below the floor price (底价) a document is refused when saved, whoever saves it. Between
the floor and the list price (表价) it is a discount, which the approver's role must
cover: a consultant has no discount authority, a sales manager goes down to the floor.
"""

from __future__ import annotations

from decimal import Decimal

from cloud.deals.errors import BelowFloorPrice, DiscountNotAuthorised

# The lowest price each role may approve, as a share of the way from the list price to
# the floor price: 0 = no discount at all, 1 = down to the floor.
AUTHORITY: dict[str, Decimal] = {"consultant": Decimal(0), "sales_manager": Decimal(1)}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, for messages (never through float)."""
    return f"{Decimal(fen) / 100:,.2f}"


def check_floor(price_fen: int, floor_price_fen: int) -> None:
    if price_fen < floor_price_fen:
        raise BelowFloorPrice(f"成交价 {yuan(price_fen)} 元低于底价，不能保存")


def lowest_approvable(roles: frozenset[str] | set[str], list_price_fen: int,
                      floor_price_fen: int) -> int:
    """The lowest price in fen that someone holding `roles` may approve."""
    share = max((AUTHORITY.get(r, Decimal(0)) for r in roles), default=Decimal(0))
    reach = Decimal(list_price_fen - floor_price_fen) * share
    return list_price_fen - int(reach)


def check_authority(roles: frozenset[str] | set[str], price_fen: int, list_price_fen: int,
                    floor_price_fen: int) -> None:
    check_floor(price_fen, floor_price_fen)
    if price_fen < lowest_approvable(roles, list_price_fen, floor_price_fen):
        raise DiscountNotAuthorised()
