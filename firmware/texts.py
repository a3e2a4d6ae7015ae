# The printer texts a dispenser was provisioned with: GB18030 bytes, stored in config.json as
# hex (hallctl provision encodes them on the host, where a GB18030 codec exists).
import binascii

TEXT_KEYS = ("hall", "ahead", "wait", "minutes", "time", "materials")   # besides "services"


def printer_texts(doc):
    # config "texts" (hex strings) -> the bytes escpos.ticket() takes.
    def raw(text):
        return binascii.unhexlify(text)

    services = {}
    for prefix, svc in doc.get("services", {}).items():
        services[prefix] = {"name": raw(svc["name"]),
                            "materials": [raw(m) for m in svc.get("materials", [])]}
    out = {"services": services}
    for key in TEXT_KEYS:
        out[key] = raw(doc[key])
    return out
