# The call-routing core: portable, journalled, deterministic (docs/routing.md).
