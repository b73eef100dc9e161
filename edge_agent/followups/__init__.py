"""Consultants' follow-ups (跟进) and "my visitors today", for the consultant PWA."""
