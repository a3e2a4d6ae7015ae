# Device firmware and the portable hub logic (MicroPython and CPython).
