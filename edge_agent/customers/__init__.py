"""The consultant's own customers on the appliance (我的客户)."""
