"""The simulated hall (CPython): ticket-level now, frame-level with devices to come."""
