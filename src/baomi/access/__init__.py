"""Access requests (C4.3.1): ask, get approved per level, receive time-bound grants."""
