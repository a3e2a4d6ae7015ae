# The call-routing core: portable, journalled, deterministic (ROUTING.md).
