"""Errors of the faces domain: stable codes, Chinese messages (problem+json)."""

from __future__ import annotations

from shared.errors import NotFound, ValidationFailed


class FacesNoticeIncomplete(ValidationFailed):
    code = "faces_notice_incomplete"
    title = "开启人脸识别须填写告示牌文字、采集区域说明和告知书版本"


class FaceCustomerNotFound(NotFound):
    code = "face_customer_not_found"
    title = "客户不存在或不在您的数据范围内"


class FaceRequestNotFound(NotFound):
    code = "face_request_not_found"
    title = "个人信息请求不存在"
