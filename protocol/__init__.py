# Wire protocol v1 of the hall QMS: schema, serial frames, MQTT carrier, link reliability.
# Submodules are imported on demand so a device loads only what its role uses.
VERSION = 1
