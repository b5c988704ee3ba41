"""Runnable examples that ship with rangeqs (the GroupHash case lives here)."""
