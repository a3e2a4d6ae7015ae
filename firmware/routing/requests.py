# Idempotency: the last requests of each device and the answers they got, so that a
# retransmitted request is answered again, never executed twice.


REQ_MEMORY = 4           # requests remembered per device: as many as its link has in flight


class Requests:
    def _repeat(self, device, req):
        # The answer already given to this request of this device (the ticket it was issued),
        # or None: a retransmission is answered again, never executed twice.
        if device is not None and req is not None:
            for entry in self.last_req.get(device, ()):
                if entry[0] == req:
                    if entry[2] is not None:
                        self.out.append(entry[2])
                    return entry[1]
        return None

    def issued_by(self, device, ticket):
        # True if `ticket` is one of the last tickets issued to `device` and it still waits.
        s, number = self.parse_ticket(ticket)
        if s < 0:
            return False
        for entry in self.last_req.get(device, ()):
            reply = entry[2]
            if reply is not None and reply[0] == "issued" and reply[1] == s and reply[2] == number:
                return self._find_waiting(s, number) is not None
        return False

    def _cmd(self, op, now, window, args, device, req):
        hit = self._repeat(device, req)
        if hit is not None:
            return hit
        return self._run(op, now, (window,) + args + (device, req))

    def _remember(self, device, req, result, mark):
        if device is not None and req is not None:
            reply = None
            for o in self.out[mark:]:
                if o[0] == "issued" or o[0] == "refused":
                    reply = o
            entries = self.last_req.get(device)
            if entries is None:
                entries = self.last_req[device] = []
            entries.append((req, result, reply))
            if len(entries) > REQ_MEMORY:
                entries.pop(0)
