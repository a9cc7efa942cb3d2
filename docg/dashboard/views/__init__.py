"""Dashboard views, one module per area (workflows, executions, approvals, templates, ...)."""
