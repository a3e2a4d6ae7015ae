# Names of the codes carried in u8 fields, index = code (protocol/codes.py defines the codes).
# Host tools and SPEC.md use these; devices use the constants and need not load this module.

ROLES = ("hub", "dispenser", "caller", "evaluator", "display")

RESET_CAUSES = ("unknown", "power_on", "hard", "watchdog", "deep_sleep", "soft", "brownout", "crash")

PRINTER_STATES = ("none", "ok", "paper_low", "paper_out", "fault")

REFUSE_REASONS = ("", "service_closed", "quota_reached", "after_last_ticket", "unknown_service",
                  "booking_unknown", "too_early", "too_late", "printer_unavailable", "hub_storage",
                  "rate_limited")

PRINT_RESULTS = ("ok", "paper_out", "fault", "timeout")

COMMAND_RESULTS = ("ok", "nobody_waiting", "wrong_state", "not_logged_in", "unknown_ticket",
                   "recall_limit", "unknown_window", "unknown_service", "refused",
                   "not_journalled")

WINDOW_STATES = ("closed", "open", "paused")

PHASES = ("idle", "called", "serving", "held")

VOICE_CUES = ("none", "call", "recall")

RATING_RESULTS = ("recorded", "wrong_window", "expired", "already_rated", "unknown_ticket",
                  "reason_required", "bad_level", "not_journalled")

ALERT_KINDS = ("", "wait_too_long", "over_time_limit", "window_idle", "open_window",
               "printer", "device_offline", "early_close", "journal_damaged", "journal_failed",
               "device_misbehaving", "bus_out_of_turn")

TICKET_KINDS = ("ordinary", "priority", "appointment")

NAK_CODES = ("", "unknown_type", "bad_payload", "busy", "newer_version")
