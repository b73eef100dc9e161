"""On-site face capture, quality gates, tracking and recognition engines (issue #23)."""
