"""Problems the face routes answer (problem+json, stable codes, Chinese titles)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, ValidationFailed


class FacesOff(Conflict):
    code = "faces_off"
    title = "本案场未开启人脸识别，无需人脸授权；访客可直接凭手机号登记"


class VisitNotFound(NotFound):
    code = "visit_not_found"
    title = "找不到这次登记，请先完成登记再进行人脸授权"


class FaceNoticeMismatch(ValidationFailed):
    code = "face_notice_mismatch"
    title = "人脸识别告知书版本已更新，请刷新前台平板后请访客重新阅读"


class FacePersonNotFound(NotFound):
    code = "face_person_not_found"
    title = "该人脸身份不存在，可能已被删除"


class FacePersonNotVisitor(Conflict):
    code = "face_person_not_visitor"
    title = "只能把未关联客户的临时身份设为员工"
