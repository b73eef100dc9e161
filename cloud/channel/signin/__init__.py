"""Broker sign-up and sign-in: WeChat (web authorisation, mini-program), SMS codes,
personal invites (全民营销). Decisions: docs/decisions/0023-broker-sign-in.md."""
