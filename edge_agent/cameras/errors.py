"""Problems the camera routes answer (problem+json, stable codes, Chinese titles)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed


class EngineerTokenInvalid(Unauthorized):
    code = "engineer_token_invalid"
    title = "现场工程师令牌无效，请核对设备配置单上的令牌"


class EngineerAccessOff(Forbidden):
    code = "engineer_access_off"
    title = "本设备未配置现场工程师令牌，摄像机管理不可用（由运维在设备配置中设置）"


class CameraNotFound(NotFound):
    code = "camera_not_found"
    title = "摄像机不存在，可能已被合并或删除，请刷新列表"


class CameraNotReady(Conflict):
    code = "camera_not_ready"
    title = "该摄像机还不能用账号密码查询，请先填写正确的账号密码再确认"


class CameraAuthFailed(ValidationFailed):
    code = "camera_auth_failed"
    title = "摄像机拒绝了该账号密码（请确认已开启 ONVIF 并使用 ONVIF 用户）"


class CameraUnreachable(ValidationFailed):
    code = "camera_unreachable"
    title = "连接不上该摄像机，请检查 IP、ONVIF 端口和网络"


class CameraNotOnvif(ValidationFailed):
    code = "camera_onvif_error"
    title = "该设备没有按 ONVIF 协议应答，请确认已开启 ONVIF"


class CameraProfileUnknown(ValidationFailed):
    code = "camera_profile_unknown"
    title = "该摄像机没有这路码流，请从摄像机上报的码流中选择"


FAILURES: dict[str, type[ValidationFailed]] = {
    "auth_failed": CameraAuthFailed,
    "unreachable": CameraUnreachable,
    "onvif_error": CameraNotOnvif,
}
