"""Channel domain: agencies, brokers, referrals, attribution (判客), appeals."""
