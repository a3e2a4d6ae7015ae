"""The hall PC's side of the system, shared by hallctl and hallsim: the hub as a service on the
hall PC (serial through a USB-RS485 adapter, or the hall's MQTT broker), the printer texts made
at provisioning, the hall's figures, and the host's tooling both need (building device code
with mpy-cross and running it on the unix port, a local Mosquitto, files written whole, key
suggestions, progress bars, plots with CJK text, the one user-facing error). hallctl's
commands and the simulator import from here; nothing here imports either of them."""
