"""Staff accounts and the audit trail."""
