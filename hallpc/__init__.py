"""The hall PC's side of the system, shared by hallctl and hallsim: the hub as a service on the
hall PC (serial through a USB-RS485 adapter, or the hall's MQTT broker), the printer texts made
at provisioning, and the hall's figures. hallctl's commands and the simulator import from here;
nothing here imports either of them."""
