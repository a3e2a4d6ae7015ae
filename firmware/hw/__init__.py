# Hardware layer: narrow interfaces (a UART is write / any / readinto; keys give a bitmask;
# an output shows role actions), with an ESP32 implementation (esp32.py, machine.*) and a
# host one (host.py: pseudo-terminals and stdio). Only board setup code builds hardware.
