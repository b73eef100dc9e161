"""Reception rota (轮岗 / 接待顺序): consultants check in and out at the kiosk; the queue
is in check-in order and a new customer's visit moves the receiver to its tail.

Kept on the edge only for now: the changes are not sent up as outbox events (the cloud
has no `rota.changed` handler yet and would reject them as unsupported types).
"""
