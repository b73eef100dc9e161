"""来电登记 on the appliance: incoming calls registered by reception or the consultant."""
