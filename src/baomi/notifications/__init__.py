"""Notifications (C4.3.1: the approval process must reach people): in-app inbox and e-mail."""
