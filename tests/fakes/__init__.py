"""Local fakes of outside services speaking their real HTTP protocols (WeChat, Aliyun
SMS), run as real HTTP servers so the adapters are tested over the wire."""
