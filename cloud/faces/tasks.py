"""The faces domain's scheduled duties: the distinct-person count with its alarms, and
the check for visits never registered at reception (completed days only)."""

from __future__ import annotations

from datetime import timedelta

from cloud.faces import counter, erasure, unregistered
from cloud.jobs.registry import Job, register

register(Job(
    name="faces.count", run=counter.recount, every=timedelta(minutes=15),
    description="统计存有人脸数据的去重人数；达到预警（8 万）或备案（10 万）人数时告警"))

register(Job(
    name="faces.unregistered_scan", run=unregistered.scan, every=timedelta(hours=1),
    description="按案场、按日比较摄像头识别到访人数与前台登记人数，超出容差即开立风控案件"))

register(Job(
    name="faces.erase_resend", run=erasure.resend_pending, every=timedelta(hours=1),
    description="删除请求中案场一天仍未回执的人脸数据，再次通知该案场删除"))
