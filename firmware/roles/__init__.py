# Device roles: sans-IO state machines given keys, messages and the time, returning actions.
